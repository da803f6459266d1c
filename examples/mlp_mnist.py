"""Build, train and evaluate a small network with nnlite, in about twenty lines.

    python examples/mlp_mnist.py            # ~97% test accuracy in well under a minute

Reads MNIST from ../shared/mnist, $MNIST_DIR or the cache (downloading it if need be).
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import nnlite as nl

(x_train, y_train), (x_test, y_test) = nl.data.load_mnist()  # $MNIST_DIR, cache or download
x_train = nl.data.to_images(x_train).reshape(len(x_train), -1)  # (60000, 784) in [0, 1]
x_test = nl.data.to_images(x_test).reshape(len(x_test), -1)

nl.seed(0)
model = nl.Sequential([nl.Dense(784, 256), nl.ReLU(), nl.Dropout(0.2), nl.Dense(256, 10)])
loss_fn = nl.CrossEntropyLoss()
optimizer = nl.Adam(model.parameters(), lr=1e-3)
rng = np.random.default_rng(0)

for epoch in range(3):
    model.train()
    for index in nl.data.batches(len(x_train), 128, rng=rng):
        loss = loss_fn.forward(model.forward(x_train[index]), y_train[index])
        model.backward(loss_fn.backward())  # fills .grad of every parameter
        optimizer.step()
        optimizer.zero_grad()
    accuracy = (model.predict(x_test).argmax(axis=1) == y_test).mean()
    print(f"epoch {epoch + 1}: loss {loss:.3f}, test accuracy {accuracy:.2%}")
