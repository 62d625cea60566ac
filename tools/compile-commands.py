#!/usr/bin/env python3
"""compile-commands.py: turns the compile commands `make -Bn` prints (standard input) into a
compile_commands.json (standard output) for editors and clang tools: one entry per command
that compiles one source file with -c (cc and nvcc alike). Used by `make compile_commands.json`."""
import json
import os
import shlex
import sys

entries = []
for line in sys.stdin:
    try:
        args = shlex.split(line)
    except ValueError:
        continue
    if "-c" not in args:
        continue
    sources = [a for a in args if a.endswith((".c", ".cu")) and not a.startswith("-")]
    if len(sources) != 1:
        continue
    entries.append({"directory": os.getcwd(), "file": sources[0], "arguments": args})
json.dump(entries, sys.stdout, indent=1)
print()
