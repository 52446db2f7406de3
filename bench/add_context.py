#!/usr/bin/env python3
"""Adds keys to the "context" of a Google Benchmark JSON file, in place.

    bench/add_context.py FILE KEY=VALUE...

For values --benchmark_context cannot carry: it splits its argument at every
',' and '=', and build flags hold both (--copt=-D_FORTIFY_SOURCE=2). Each
argument is split at its first '=' only.
"""

import json
import sys


def main(argv):
    if len(argv) < 3 or any("=" not in pair for pair in argv[2:]):
        print("usage: bench/add_context.py FILE KEY=VALUE...", file=sys.stderr)
        return 2
    path = argv[1]
    try:
        with open(path, encoding="utf-8") as file:
            document = json.load(file)
        context = document["context"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"add_context.py: {path}: not Google Benchmark JSON ({error})", file=sys.stderr)
        return 2
    for pair in argv[2:]:
        key, value = pair.split("=", 1)
        context[key] = value
    with open(path, "w", encoding="utf-8") as file:
        json.dump(document, file, indent=2)
        file.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
