"""The two engines that compute nnlite's ops (:mod:`nnlite.ops`).

``reference``: the textbook. NCHW arrays, one thread, every op a few lines of NumPy with its
shapes stated: read it to learn how a layer works.

``fast``: the same ops, computed the way a 2-core laptop likes them: the batch cut into one
part per core on threads, convolutions on channels-last memory in cache-sized chunks, fused
element-wise passes. Read it to learn how the speed is made (``docs/speed.md``).

Both take and return the same arrays: NCHW images, weights in their natural layout, (N, K)
matrices. The tests check that every fast op equals the reference op.
"""
