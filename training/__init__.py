"""Everything that makes the shipped weights: the models' architectures (``models``), data
augmentation (``augment``), synthesized data (``synth``: pen strokes and rows of touching
digits; ``realistic``: photos, scans and sketches of MNIST digits; ``negatives``: what is not
a digit), the one training loop with its schedule and progress bar (``loop``), checkpoints
(``checkpoints``), temperature calibration (``calibration``), and the two trainings:
``digits`` (the classifier, ``train.py``) and ``verifier`` (the cut verifier,
``train_verifier.py``).

It builds on ``nnlite`` and ``recognition`` (the pipeline the models are trained for); nothing
outside ``training`` and the two scripts imports it except tests and benchmarks.
"""
