#!/usr/bin/env python3
"""Lists every function in app/ whose body is over 80 lines, and fails unless each one carries a reason.

A function counts its body the way clang-tidy's readability-function-size (LineThreshold) does: the line
of the closing brace minus the line of the opening brace. Lambdas and nested blocks count toward the
function that holds them. Over 80 is a function a reviewer reads in pieces; split it into named steps
(see app/gateway/exchange*.cpp) instead.

Where splitting would make a function worse (a flat table of cases, a generated mapping), say why in a
comment on the lines directly above its signature, with this marker and a specific reason:

    // long-function: one case per JSON Schema keyword; a split would scatter the table

The marker may sit anywhere in the comment block that ends on the line above the signature. A marker
without a reason does not count.

TO_SPLIT below names the functions known to be long in folders that are being reworked elsewhere;
the list only shrinks: an entry whose function is no longer long (or gone) is an error too, so it gets
removed when its function is split.

This is a parse of the source text, not of the AST, so it stays a matter of seconds (scripts/test.sh runs
it before the build). It relies on the tree being clang-formatted only for what a brace opens: it skips
comments, string, character and raw-string literals, tells namespaces, classes and initializers from
function bodies, and knows constructor initializer lists. Checked against clang-tidy 14's
readability-function-size on this tree (same functions, same line counts).

Usage: scripts/longfunctions.py [--all] [--limit N] [ROOT]   (ROOT defaults to app/ beside this script)
"""

import argparse
import os
import re
import sys

LIMIT = 80
MARKER = re.compile(r"//\s*long-function:\s*(\S.*)$")

# "path relative to app/:function" -> its length when listed. Known debt, not reasons: store/ and
# secretscan/ were being reworked elsewhere when this check came in, so their long functions wait
# here to be split; then the entry goes. Nothing is added here: a new long function is split or
# given its reason.
TO_SPLIT = {
}

QUALIFIERS = {"const", "override", "final", "noexcept", "mutable"}
CLASS_KEYS = re.compile(r"\b(class|struct|union|enum)\b")
IDENT_END = re.compile(r"([A-Za-z_~][A-Za-z0-9_]*)\s*$")


def strip_code(text):
    """Returns text with comments and literals blanked (newlines kept), so braces inside them vanish."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"' and re.search(r"(?:\bu8|\bu|\bU|\bL)?R$", text[max(0, i - 3):i]):
            m = re.match(r'"([^()\\ ]{0,16})\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = text.find(")" + m.group(1) + '"', i)
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append('"' + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + '"')
            i = j
        elif c in "\"'":
            # A digit separator (1'000) is not a character literal.
            if c == "'" and i > 0 and text[i - 1].isalnum() and i + 1 < n and text[i + 1].isalnum():
                out.append(" ")
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * (j - i - 2) + c if j - i >= 2 else text[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def depth0(segment):
    """The segment with everything inside (), [] and <> of templates kept but flagged: returns the
    characters at parenthesis depth 0 (others replaced by spaces)."""
    res, depth = [], 0
    for ch in segment:
        if ch in "([":
            depth += 1
            res.append(" ")
        elif ch in ")]":
            depth = max(0, depth - 1)
            res.append(" ")
        else:
            res.append(ch if depth == 0 else " ")
    return "".join(res)


def classify(segment):
    """What a '{' opens at namespace or class scope, from the text since the previous ';', '{' or '}'.
    Returns (kind, name) with kind in namespace, class, function, init."""
    seg = segment.strip()
    seg = re.sub(r"^template\s*<.*?>\s*(?=[A-Za-z_])", "", seg, flags=re.S)
    flat = depth0(seg)
    if re.search(r"\bnamespace\b", flat) or re.match(r'extern\s+"', seg):
        return "namespace", ""
    call_op = re.search(r"\boperator\s*\(\s*\)", seg)
    paren = seg.find("(", call_op.end() if call_op else 0)
    key = CLASS_KEYS.search(flat)
    if key and (paren < 0 or key.start() < paren):
        return "class", ""
    if re.search(r"(?<![=!<>+\-*/%&|^])=(?!=)", flat.replace("operator", "")):
        return "init", ""
    last = re.search(r"(\S+)\s*$", flat)
    tail = last.group(1) if last else ""
    if paren < 0:
        return "init", ""
    ends_signature = seg.rstrip().endswith(")") or tail in QUALIFIERS or re.search(r"->\s*[\w:<>,\s*&]+$", seg)
    # In a constructor's initializer list, "m_x{...}" opens a braced initializer, not the body.
    in_init_list = re.search(r"\)\s*(?:noexcept\s*)?:(?!:)", flat) is not None
    if not ends_signature or (in_init_list and IDENT_END.search(seg) and not seg.rstrip().endswith(")")
                              and tail not in QUALIFIERS):
        return "init", ""
    head = seg[:paren]
    m = re.search(r"([A-Za-z0-9_:~<>,]*operator\s*(?:\(\s*\)|[^\s(]+)|[A-Za-z_~][A-Za-z0-9_:~<>,]*)\s*$", head)
    name = m.group(1) if m else head.strip()
    return "function", re.sub(r"\s+", "", name)


def functions(path):
    """Yields (name, first_line_of_signature, body_lines) for each function defined in path."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    code = strip_code(text)
    stack = []          # kinds of the open braces
    seg_start = 0       # where the current declaration began at the innermost namespace/class scope
    seg_stack = []      # saved seg_start for braced initializers inside a declaration
    opened = []         # for function bodies: (name, signature offset, brace offset)
    line_at = [0]
    for idx, ch in enumerate(code):
        if ch == "\n":
            line_at.append(idx + 1)

    def line_of(offset):
        lo, hi = 0, len(line_at) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if line_at[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    for i, ch in enumerate(code):
        in_body = bool(stack) and stack[-1] in ("function", "block")  # blocks only open inside bodies
        if ch == "{":
            if in_body:
                stack.append("block")
                continue
            kind, name = classify(code[seg_start:i])
            stack.append(kind)
            if kind == "function":
                sig = seg_start + (len(code[seg_start:i]) - len(code[seg_start:i].lstrip()))
                opened.append((name, sig, i))
            elif kind == "init":
                seg_stack.append(seg_start)
                continue
            seg_start = i + 1
        elif ch == "}":
            if not stack:
                continue
            kind = stack.pop()
            if kind == "block":
                continue
            if kind == "init":
                seg_start = seg_stack.pop() if seg_stack else i + 1
                continue
            if kind == "function":
                name, sig, brace = opened.pop()
                yield name, line_of(sig), line_of(i) - line_of(brace)
            seg_start = i + 1
        elif ch == ";" and not in_body and (not stack or stack[-1] != "init"):
            seg_start = i + 1


def reason_above(lines, line_no):
    """The long-function reason in the comment block ending just above line_no (1-based), or None."""
    j = line_no - 2
    while j >= 0 and lines[j].strip().startswith("//"):
        m = MARKER.search(lines[j])
        if m:
            # The reason goes on over the comment lines below the marker.
            rest = [l.strip()[2:].strip() for l in lines[j + 1:line_no - 1]]
            return " ".join([m.group(1).strip()] + rest)
        j -= 1
    return None


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", nargs="?", default=os.path.join(here, "..", "app"))
    parser.add_argument("--all", action="store_true", help="also list long functions that carry a reason")
    parser.add_argument("--limit", type=int, default=LIMIT)
    args = parser.parse_args()

    root = os.path.normpath(args.root)
    failures, seen = [], set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fn in sorted(filenames):
            if not fn.endswith((".cpp", ".h")):
                continue
            path = os.path.join(dirpath, fn)
            rel = os.path.relpath(path, root)
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
            for name, line, length in functions(path):
                if length <= args.limit:
                    continue
                key = f"{rel}:{name}"
                where = f"{os.path.relpath(path)}:{line}: {name} is {length} lines"
                reason = reason_above(lines, line)
                if reason:
                    if args.all:
                        print(f"{where} (long-function: {reason})")
                elif key in TO_SPLIT:
                    seen.add(key)
                    if args.all:
                        print(f"{where} (to split, listed in {os.path.basename(__file__)})")
                else:
                    failures.append(f"{where}, over {args.limit}: split it, or say why beside it "
                                    f"(// long-function: <reason>)")
    for key in sorted(set(TO_SPLIT) - seen):
        failures.append(f"{key} is listed in TO_SPLIT but is no longer over {args.limit} lines: remove the entry")
    for f in failures:
        print(f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
