"""Stand-ins for the file tools a recipe calls that accept only what macOS's BSD tools accept, so that a recipe
written for GNU coreutils and findutils fails here as it would on a Mac. Each stand-in checks its arguments
against the macOS manual's synopsis, then runs the real tool.

What a stand-in refuses: long options (``--parents``), option letters the BSD tool lacks or reads otherwise
(``install -D``, ``cp -t``, ``sed -i``, ``stat -c``), options after an operand (GNU reorders them, BSD takes
them for file names), ``find`` without a path first and GNU-only ``find`` primaries (``-printf``, ...).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

# tool: (option letters without an argument, option letters taking one), from macOS's manual pages.
OPTIONS = {
    "install": ("bCcdpSsv", "Bfgmo"),
    "cp": ("RHLPfinaclNpSsvXxr", ""),
    "mv": ("finhv", ""),
    "rm": ("fidIPRrvWx", ""),
    "ln": ("LPsFfihnv", ""),
    "mkdir": ("pv", "m"),
    "chmod": ("fhvRHLP", ""),
    "sed": ("Eanlu", "ef"),
    "xargs": ("0oprtx", "EIRSJLnPs"),
    "stat": ("FLnqlrsx", "ft"),
    "readlink": ("fn", ""),
    "dirname": ("", ""),
    "basename": ("", "s"),
}
FIND_OPTIONS = "HLPEXdsx"
GNU_FIND_PRIMARIES = {
    "-printf", "-fprintf", "-fprint", "-fprint0", "-fls", "-regextype", "-readable", "-writable", "-executable",
    "-xtype", "-noleaf", "-ignore_readdir_race", "-noignore_readdir_race", "-warn", "-nowarn",
}  # fmt: skip

_SHIM = """\
import os, sys
tool, real, flags, with_argument = {tool!r}, {real!r}, {flags!r}, {with_argument!r}
find_options, gnu_primaries = {find_options!r}, {gnu_primaries!r}
args = sys.argv[1:]


def refuse(why):
    sys.stderr.write(f"not BSD (macOS) {{tool}}: {{why}} in {{' '.join([tool, *args])}}\\n")
    sys.exit(64)


if tool == "find":
    index = 0
    while index < len(args) and args[index].startswith("-") and set(args[index][1:]) <= set(find_options):
        index += 1
    if index == len(args) or args[index].startswith(("-", "(", "!")):
        refuse("no path before the expression")
    skipping = False
    for arg in args[index:]:
        if skipping:
            skipping = arg not in (";", "+")
        elif arg in ("-exec", "-execdir", "-ok", "-okdir"):
            skipping = True
        elif arg in gnu_primaries or arg.startswith("--"):
            refuse(f"primary {{arg}}")
else:
    operands, expect_argument = False, False
    for arg in args:
        if expect_argument:
            expect_argument = False
        elif arg == "--":
            break
        elif arg.startswith("--"):
            refuse(f"long option {{arg}}")
        elif arg.startswith("-") and arg != "-":
            if operands:
                refuse(f"option {{arg}} after an operand")
            for position, letter in enumerate(arg[1:]):
                if letter in with_argument:
                    expect_argument = position == len(arg) - 2
                    break
                if letter not in flags:
                    refuse(f"option -{{letter}}")
        else:
            operands = True
os.execv(real, [real, *args])
"""


def bsd_tools(directory: Path) -> Path:
    """A directory of stand-ins, to put first on PATH; tools missing on this machine get none."""
    directory.mkdir(parents=True, exist_ok=True)
    for tool, (flags, with_argument) in {**OPTIONS, "find": ("", "")}.items():
        real = shutil.which(tool)
        if real is None:
            continue
        script = _SHIM.format(
            tool=tool,
            real=real,
            flags=flags,
            with_argument=with_argument,
            find_options=FIND_OPTIONS,
            gnu_primaries=sorted(GNU_FIND_PRIMARIES),
        )
        shim = directory / tool
        shim.write_text(f"#!{sys.executable} -IS\n{script}", encoding="utf-8")
        shim.chmod(0o755)
    return directory
