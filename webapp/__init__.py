"""The web app's pieces that stand between a stranger's request and the recognizer: the
request guard (origins, body sizes, component calls), the file-checking image inputs, and the
drawing canvas. ``app.py`` builds the page from them."""
