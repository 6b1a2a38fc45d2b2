#!/usr/bin/env python3
"""scripts/longfunctions.py on small trees written here: what it counts as a function, how long it
finds each one, which reasons it honours and when it fails; then on app/ itself (the rule CI keeps)."""

import importlib.util
import io
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
SCRIPT = os.path.join(SOURCE, "scripts", "longfunctions.py")

spec = importlib.util.spec_from_file_location("longfunctions", SCRIPT)
longfunctions = importlib.util.module_from_spec(spec)
spec.loader.exec_module(longfunctions)


def body(lines, indent="    "):
    return "".join(f"{indent}x += {i};\n" for i in range(lines))


class Tree:
    """A temporary app/ folder with the given files."""

    def __init__(self, files):
        self.dir = tempfile.TemporaryDirectory()
        for name, text in files.items():
            path = os.path.join(self.dir.name, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(textwrap.dedent(text))

    def functions(self, name):
        return [(n, length) for n, _, length in longfunctions.functions(os.path.join(self.dir.name, name))]

    def check(self, to_split=None):
        """The check's exit code and error output on this tree, with `to_split` as its TO_SPLIT list."""
        saved = dict(longfunctions.TO_SPLIT)
        argv, stderr = sys.argv, sys.stderr
        longfunctions.TO_SPLIT.clear()
        longfunctions.TO_SPLIT.update(to_split or {})
        sys.argv, sys.stderr = [SCRIPT, self.dir.name], io.StringIO()
        try:
            return longfunctions.main(), sys.stderr.getvalue()
        finally:
            sys.argv, sys.stderr = argv, stderr
            longfunctions.TO_SPLIT.clear()
            longfunctions.TO_SPLIT.update(saved)


class Parsing(unittest.TestCase):
    def test_lengths_are_closing_minus_opening_brace_line(self):
        t = Tree({"a.cpp": "int f(int x)\n{\n" + body(3) + "    return x;\n}\n"})
        self.assertEqual(t.functions("a.cpp"), [("f", 5)])

    def test_namespaces_classes_inline_members_and_qualified_names(self):
        src = ("namespace gh {\nnamespace {\nstruct S {\n    int g() const { return 1; }\n};\n}\n"
               "class C\n{\npublic:\n    void h()\n    {\n" + body(2, "        ") + "    }\n};\n"
               "int C::k(const QString &s) const\n{\n    return 0;\n}\n} // namespace gh\n")
        t = Tree({"a.cpp": src})
        self.assertEqual(t.functions("a.cpp"), [("g", 0), ("h", 3), ("C::k", 2)])

    def test_braces_in_strings_comments_lambdas_and_raw_strings_are_not_functions(self):
        src = ('void f()\n{\n    const char *a = "{{{";\n    char b = \'{\';\n    // }\n    /* } */\n'
               '    auto l = [](int) { return 1; };\n    const char *r = R"x({ "k": 1 })x";\n}\n'
               'int g()\n{\n    return 1\'000;\n}\n')
        t = Tree({"a.cpp": src})
        self.assertEqual(t.functions("a.cpp"), [("f", 7), ("g", 2)])

    def test_initializers_and_constructor_init_lists(self):
        src = ("static const int table[] = {\n 1,\n 2,\n};\nFoo::Foo(int a)\n    : m_a{a}\n    , m_b(a)\n"
               "{\n    go();\n}\nQList<int> list{1, 2};\nenum class E { A, B };\n"
               "bool operator==(const A &, const A &) = default;\nbool A::operator()(int x) const\n{\n    return x;\n}\n")
        t = Tree({"a.cpp": src})
        self.assertEqual(t.functions("a.cpp"), [("Foo::Foo", 2), ("A::operator()", 2)])


class Rule(unittest.TestCase):
    def long_function(self, above=""):
        return above + "void tooLong()\n{\n" + body(81) + "}\nvoid shortOne()\n{\n" + body(10) + "}\n"

    def test_a_long_function_fails_with_its_place_and_length(self):
        code, err = Tree({"x/a.cpp": self.long_function()}).check()
        self.assertEqual(code, 1)
        self.assertIn("a.cpp:1: tooLong is 82 lines", err)
        self.assertNotIn("shortOne", err)

    def test_eighty_lines_pass(self):
        code, _ = Tree({"a.cpp": "void f()\n{\n" + body(79) + "}\n"}).check()
        self.assertEqual(code, 0)

    def test_a_reason_beside_it_passes(self):
        code, err = Tree({"a.cpp": self.long_function("// One case per tool.\n// long-function: a flat table of cases\n")}).check()
        self.assertEqual((code, err), (0, ""))

    def test_a_marker_without_reason_or_not_beside_it_fails(self):
        self.assertEqual(Tree({"a.cpp": self.long_function("// long-function:\n")}).check()[0], 1)
        self.assertEqual(Tree({"a.cpp": self.long_function("// long-function: why\n\n")}).check()[0], 1)

    def test_to_split_entries_pass_and_must_be_removed_once_split(self):
        t = Tree({"store/a.cpp": self.long_function(), "store/b.cpp": "void done()\n{\n}\n"})
        self.assertEqual(t.check({"store/a.cpp:tooLong": 82}), (0, ""))
        code, err = t.check({"store/a.cpp:tooLong": 82, "store/b.cpp:done": 90})
        self.assertEqual(code, 1)
        self.assertIn("store/b.cpp:done is listed in TO_SPLIT but is no longer over 80 lines", err)


class App(unittest.TestCase):
    def test_app_has_no_long_function_without_a_reason(self):
        run = subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True)
        self.assertEqual(run.returncode, 0, run.stderr)


if __name__ == "__main__":
    unittest.main()
