"""Recognise handwritten digits or whole numbers in image files.

    python recognize.py [--weights PATH] [--top-k K] [--number] FILE...

Prints one JSON object per file, one per line, in input order:

    {"file": F, "label": 7, "confidence": 0.98, "top_k": [[7, 0.98], [1, 0.01], [9, 0.004]]}
    {"file": F, "label": null, "reason": "no digit found"}
    {"file": F, "label": null, "reason": "not a digit", "top_k": [[4, 0.41], [1, 0.03], ...]}
    {"file": F, "number": "4071",
     "digits": [{"label": 4, "confidence": 0.99, "box": [x, y, w, h]}, ...],
     "skipped": [{"box": [x, y, w, h], "reason": "not a digit"}]}
    {"file": F, "error": "what is wrong"}

"Not a digit" is an answer (a letter, a doodle, a speck), not an error: the digit guesses stay
listed. Exit status: 0 when every file was read, 1 when any file could not be used, 2 when the
weights cannot be loaded (one line on stderr). No traceback ever reaches the user.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from recognition import DEFAULT_WEIGHTS, ImageError, Recognizer


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Recognise a handwritten digit (or, with --number, a whole number) in "
        "each image file; prints one JSON object per file."
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="image files (PNG, JPEG, ...)")
    parser.add_argument(
        "--weights", default=str(DEFAULT_WEIGHTS), help="model file (default: %(default)s)"
    )
    parser.add_argument(
        "--top-k", type=int, default=3, help="how many labels to list, 1-10 (default: 3)"
    )
    parser.add_argument(
        "--number", action="store_true", help="read every digit: a number, lines of digits"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.top_k <= 10:
        parser.error(f"--top-k must be between 1 and 10, got {args.top_k}")
    return args


def recognise_file(recognizer: Recognizer, path: str, number: bool, top_k: int) -> dict[str, Any]:
    """The JSON object for one file; never raises for a bad file."""
    try:
        if number:
            found = recognizer.read_number(path).to_json()
        else:
            found = recognizer.predict(path, top_k=top_k).to_json()
    except ImageError as error:
        return {"file": path, "error": str(error)}
    except MemoryError:
        return {"file": path, "error": "the image is too large to process"}
    except Exception as error:  # a bug must not cost the other files their answers
        return {"file": path, "error": f"internal error: {type(error).__name__}: {error}"}
    return {"file": path, **found}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    recognizer = Recognizer.load_or_exit(args.weights, "recognize.py")
    failed = False
    for path in args.files:
        result = recognise_file(recognizer, path, args.number, args.top_k)
        failed = failed or "error" in result
        print(json.dumps(result), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("recognize.py: interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
