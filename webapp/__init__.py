"""The web app: the page (``page``: words, styles, scripts), what its events do
(``handlers``), how it is laid out (``layout``) and served (``server``), and the pieces that
stand between a stranger's request and the recognizer: the request guard (origins, body
sizes, component calls), the file-checking image inputs and the drawing canvas. ``app.py``
is the command line in front of it.

Importing this package imports nothing else: ``app.py`` reads its defaults without the web
stack."""

#: Uploads and outputs in Gradio's cache are deleted after this many seconds by default.
CACHE_SECONDS = 3600
