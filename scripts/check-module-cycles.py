#!/usr/bin/env python3
"""Report import cycles among a Rust crate's modules (issue #11).

Usage: scripts/check-module-cycles.py [--edges] SRC_DIR [SRC_DIR ...]
  e.g. scripts/check-module-cycles.py linter/src provider/src provider/cty/src provider/server/src

Each SRC_DIR is a crate's source root. Its `lib.rs` (and `main.rs`, a separate binary crate)
is parsed, and the module tree is built by following `mod x;` declarations (`x.rs` + `x/`,
or `x/mod.rs`) and inline `mod x { ... }` blocks. Python 3 standard library only; no
compiler, no macro expansion.

What is test code and not counted:
  - a module declared under `#[cfg(test)]` (e.g. `#[cfg(test)] mod tests;` -> `tests.rs`),
    and any file whose first attribute is `#![cfg(test)]`;
  - any item or statement carrying `#[cfg(test)]` or `#[cfg(all(..., test, ...))]`
    (the attribute and the item after it, up to its `;` or closing brace).
Comments, doc comments, string and char literals are ignored.

References: every path that names a module of the crate,
  - each leaf of every `use` tree (`use crate::a::{b, c::D}`, `use super::x`, `use self::y`),
  - every path in code starting with `crate::`, `$crate::`, `self::` or `super::`,
  - every path in code whose first segment is a name the module has in scope: a child
    module, a name it imports with `use` (so `use super::gate; gate::Backoff` counts), or a
    name brought in by a glob import (`use super::*`) that the glob's source re-exports.
`self`/`super` resolve relative to the module containing the reference (inline modules
included). A path resolves to the deepest module it reaches, following `use` declarations
and re-exports (`pub use x::Y` in `a/mod.rs` makes `crate::a::Y` a reference to `a::x`).
A path that leaves the crate (std, dependencies) is no reference.

The edge rule: a reference from module F to module T is an edge between the two *siblings*
A and B (children of the same parent P) with F inside A and T inside B, where P is the
lowest common ancestor of F and T. So `resources::fleet::gate::fetch` using
`crate::resources::fleet::aws::describe_group` is the edge `gate -> aws` among the children
of `resources::fleet`, and `plan::error` using `crate::position` is `plan -> position`
among the top-level modules. A reference from a module to one of its own ancestors or
descendants is no edge: a parent always declares and uses its children, and a child may use
what its parent defines in the parent's own file (the parent owns the child). What a parent
merely re-exports from another child is resolved to that child first, so it is no loophole.

Limits: macros are not expanded (a `$crate::x` path counts for the module that defines the
macro), `#[path]` attributes are not followed, `cfg` other than `test` is treated as always
on, and a name used bare after a glob import counts only if the glob's source imports it.

Cycles are reported among the top-level modules of each crate and among the children of
every module: one line per elementary cycle, as
  CRATE: a -> b -> a (FILE:LINE, FILE:LINE)
with the first reference (by file, then line) behind each edge. Exit status 1 if there is
any cycle, 0 otherwise (with a one-line summary); 2 on bad usage.
"""

import bisect
import os
import re
import sys

IDENT = r"(?:r#)?[A-Za-z_][A-Za-z0-9_]*"

# --------------------------------------------------------------------------------------
# Lexing: blank comments and literals, keeping offsets and line breaks.

_INTERESTING = re.compile(
    r"//|/\*|(?<![A-Za-z0-9_])(?:b|c|br|cr|r)?(?:r#*)?\"|(?<![A-Za-z0-9_])b?'"
)
_CHAR = re.compile(r"b?'(?:[^\\'\n]|\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F_]+\}|.))'")


def _blank(s):
    return re.sub(r"[^\n]", " ", s)


def strip_code(src):
    """Return src with comments and string/char literals replaced by spaces."""
    out = []
    pos = 0
    n = len(src)
    while True:
        m = _INTERESTING.search(src, pos)
        if not m:
            out.append(src[pos:])
            break
        start = m.start()
        out.append(src[pos:start])
        tok = m.group(0)
        if tok == "//":
            end = src.find("\n", start)
            end = n if end < 0 else end
        elif tok == "/*":
            depth, i = 1, start + 2
            while i < n and depth:
                if src.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif src.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            end = i
        elif tok.endswith("'"):
            cm = _CHAR.match(src, start)
            if cm:
                end = cm.end()
            else:  # a lifetime or label
                out.append(tok)
                pos = m.end()
                continue
        else:  # a string literal, maybe raw
            hashes = tok.count("#")
            if "r" in tok:
                close = '"' + "#" * hashes
                end = src.find(close, m.end())
                end = n if end < 0 else end + len(close)
            else:
                i = m.end()
                while i < n and src[i] != '"':
                    i += 2 if src[i] == "\\" else 1
                end = min(i + 1, n)
        out.append(_blank(src[start:end]))
        pos = end
    return "".join(out)


# --------------------------------------------------------------------------------------
# Test code.

_ATTR = re.compile(r"#\s*(!?)\s*\[")


def _matching(text, i, open_ch, close_ch):
    """Index just after the bracket matching text[i] (== open_ch)."""
    depth = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == open_ch:
            depth += 1
        elif c == close_ch:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def _split_top(s):
    parts, depth, cur = [], 0, []
    for c in s:
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        if c == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur).strip())
    return [p for p in parts if p]


def is_test_cfg(attr_body):
    body = re.sub(r"\s+", "", attr_body)
    if body == "cfg(test)":
        return True
    m = re.fullmatch(r"cfg\(all\((.*)\)\)", body)
    return bool(m) and "test" in _split_top(m.group(1))


def _item_end(text, i):
    """End of the item starting at or after i (after any further attributes)."""
    n = len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        am = _ATTR.match(text, i)
        if not am:
            break
        i = _matching(text, am.end() - 1, "[", "]")
    if re.match(r"(?:pub(?:\s*\([^)]*\))?\s+)?use\b", text[i:i + 40]):
        j = text.find(";", i)
        return n if j < 0 else j + 1
    depth, braced = 0, False
    while i < n:
        c = text[i]
        if c in "([{":
            depth += 1
            if c == "{" and depth == 1:
                braced = True
        elif c in ")]}":
            depth -= 1
            if depth < 0:
                return i
            if depth == 0 and c == "}" and braced:
                return i + 1
        elif c == ";" and depth == 0:
            return i + 1
        i += 1
    return n


def strip_tests(text):
    """Blank #[cfg(test)] items; return None if the whole file is #![cfg(test)]."""
    pos = 0
    while True:
        m = _ATTR.search(text, pos)
        if not m:
            return text
        end = _matching(text, m.end() - 1, "[", "]")
        if is_test_cfg(text[m.end():end - 1]):
            if m.group(1):
                return None
            item_end = _item_end(text, end)
            text = text[:m.start()] + _blank(text[m.start():item_end]) + text[item_end:]
            pos = item_end
        else:
            pos = end


# --------------------------------------------------------------------------------------
# Module tree.


class Module:
    def __init__(self, name, parent, child_dir):
        self.name = name
        self.parent = parent
        self.path = (parent.path + (name,)) if parent else ()
        self.child_dir = child_dir  # where `mod x;` inside it looks for x.rs / x/mod.rs
        self.children = {}
        self.uses = {}  # name -> (declaring module, segments)
        self.globs = []  # (declaring module, segments)

    def label(self):
        return "::".join(self.path) if self.path else "crate"

    def ancestors(self):
        m = self
        while m:
            yield m
            m = m.parent


class Ref:
    __slots__ = ("module", "segs", "file", "line")

    def __init__(self, module, segs, file, line):
        self.module, self.segs, self.file, self.line = module, segs, file, line


_MOD = re.compile(r"(?<![\w$])mod\s+(" + IDENT + r")\s*([;{])")
_USE = re.compile(r"(?<![\w$:.])use\b(?!\s*<)")
_USE_TOK = re.compile(r"\$?" + IDENT + r"|::|[{},*;]")
_PATH = re.compile(
    r"(?<![\w$])(?<!::)(\$?" + IDENT + r"(?:\s*::\s*" + IDENT + r")+)"
)
_WORD = re.compile(r"(?<![\w$])(?<!::)(?<!\.)(" + IDENT + r")\b(?!\s*!)")


def _norm(ident):
    return ident[2:] if ident.startswith("r#") else ident


def parse_use_tree(text, start, end):
    """Leaves of the use tree in text[start:end]: (segments, bound name or None, glob, pos)."""
    toks = [(m.group(0), m.start()) for m in _USE_TOK.finditer(text, start, end)]
    leaves = []
    idx = [0]

    def peek():
        return toks[idx[0]][0] if idx[0] < len(toks) else None

    def take():
        t = toks[idx[0]]
        idx[0] += 1
        return t

    def tree(prefix):
        path = list(prefix)
        while idx[0] < len(toks):
            tok, pos = take()
            if tok == "::":
                if not path:
                    path.append("::")  # `use ::dep::x`: outside the crate
                continue
            if tok == "{":
                while peek() not in (None, "}"):
                    if peek() == ",":
                        take()
                        continue
                    tree(path)
                if peek() == "}":
                    take()
                return
            if tok == "*":
                leaves.append((path, None, True, pos))
                return
            if tok in (",", "}", ";"):
                idx[0] -= 1
                return
            tok = _norm(tok)
            if tok == "self" and path:
                seg_path, name = path, path[-1]
            else:
                seg_path, name = path + [tok], tok
            if peek() == "::" and not (tok == "self" and path):
                path = seg_path
                continue
            if peek() == "as":
                take()
                alias = take()[0] if idx[0] < len(toks) else "_"
                name = None if alias == "_" else _norm(alias)
            leaves.append((seg_path, name, False, pos))
            return

    tree([])
    return leaves


class Crate:
    def __init__(self, src_dir, root_file, label):
        self.src_dir = src_dir
        self.label = label
        self.root = Module("crate", None, src_dir)
        self.root.path = ()
        self.modules = [self.root]
        self.refs = []
        self.files = 0
        self._load(self.root, os.path.join(src_dir, root_file))

    def rel(self, path):
        return os.path.relpath(path)

    def _load(self, module, path):
        try:
            with open(path, encoding="utf-8") as f:
                src = f.read()
        except OSError as e:
            sys.stderr.write(f"warning: {self.label}: cannot read {path}: {e}\n")
            return
        text = strip_tests(strip_code(src))
        if text is None:
            return
        self.files += 1
        rel = self.rel(path)
        line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        opens = [m.start() for m in re.finditer(r"\{", text)]
        closes = [m.start() for m in re.finditer(r"\}", text)]

        def line_of(p):
            return bisect.bisect_right(line_starts, p)

        def depth_at(p):
            return bisect.bisect_left(opens, p) - bisect.bisect_left(closes, p)

        # Inline modules: (start, end, module, body depth), outermost first.
        regions = [(0, len(text), module, 0)]
        decls = []

        def region_of(p):
            best = regions[0]
            for r in regions:
                if r[0] <= p < r[1] and r[0] >= best[0]:
                    best = r
            return best

        for m in _MOD.finditer(text):
            owner = region_of(m.start())[2]
            name = _norm(m.group(1))
            if m.group(2) == "{":
                body = m.end() - 1
                end = _matching(text, body, "{", "}")
                child = self._child(owner, name, os.path.join(owner.child_dir, name))
                regions.append((body + 1, end - 1, child, depth_at(body + 1)))
            else:
                decls.append((owner, name))

        # `use` declarations.
        use_spans = []
        for m in _USE.finditer(text):
            semi = text.find(";", m.end())
            semi = len(text) if semi < 0 else semi
            use_spans.append((m.start(), semi + 1))
            start, _end, owner, body_depth = region_of(m.start())
            module_level = depth_at(m.start()) == body_depth
            for segs, name, glob, pos in parse_use_tree(text, m.end(), semi):
                if not segs or segs[0] == "::":
                    continue
                self.refs.append(Ref(owner, segs, rel, line_of(pos)))
                if module_level:
                    if glob:
                        owner.globs.append((owner, segs))
                    elif name:
                        owner.uses.setdefault(name, (owner, segs))

        def in_use(p):
            i = bisect.bisect_right(use_spans, (p, float("inf"))) - 1
            return i >= 0 and use_spans[i][0] <= p < use_spans[i][1]

        # Paths in code.
        for m in _PATH.finditer(text):
            if in_use(m.start()):
                continue
            segs = [_norm(s) for s in re.split(r"\s*::\s*", m.group(1))]
            if segs[0] == "Self":
                continue
            self.refs.append(Ref(region_of(m.start())[2], segs, rel, line_of(m.start())))

        # Bare names that only a glob import brings into scope; resolved later.
        if any(r[2].globs for r in regions):
            for m in _WORD.finditer(text):
                owner = region_of(m.start())[2]
                if owner.globs and not in_use(m.start()):
                    self.refs.append(Ref(owner, ["<glob>", _norm(m.group(1))], rel,
                                         line_of(m.start())))

        # Out-of-line child modules.
        for owner, name in decls:
            base = owner.child_dir
            flat = os.path.join(base, name + ".rs")
            nested = os.path.join(base, name, "mod.rs")
            if os.path.isfile(flat):
                child = self._child(owner, name, os.path.join(base, name))
                self._load(child, flat)
            elif os.path.isfile(nested):
                child = self._child(owner, name, os.path.join(base, name))
                self._load(child, nested)
            else:
                sys.stderr.write(f"warning: {self.label}: no file for module "
                                 f"{owner.label()}::{name} (in {rel})\n")

    def _child(self, parent, name, child_dir):
        if name in parent.children:
            return parent.children[name]
        child = Module(name, parent, child_dir)
        parent.children[name] = child
        self.modules.append(child)
        return child

    # ----------------------------------------------------------------------------------

    def resolve(self, module, segs, depth=0):
        """The deepest module of this crate that segs reaches from module, or None."""
        if depth > 24 or not segs:
            return None
        s0 = segs[0]
        i = 0
        bare = False
        if s0 in ("crate", "$crate"):
            cur, i = self.root, 1
        elif s0 == "self":
            cur, i = module, 1
        elif s0 == "super":
            cur = module
            while i < len(segs) and segs[i] == "super":
                cur = cur.parent
                if cur is None:
                    return None
                i += 1
        elif s0 == "<glob>":
            name = segs[1]
            if name in module.uses or name in module.children:
                return None  # an explicit import or child shadows the glob
            for dm, gsegs in module.globs:
                g = self.resolve(dm, gsegs, depth + 1)
                if g is not None and name in g.uses:
                    return self.resolve(g, [name], depth + 1)
            return None
        else:
            cur, bare = module, True
        start = i
        while i < len(segs):
            s = segs[i]
            if s in cur.children:
                cur = cur.children[s]
                i += 1
                continue
            if s in cur.uses:
                dm, usegs = cur.uses[s]
                if bare and i == start and usegs == segs[:len(usegs)] and dm is module:
                    return None  # `use dep::x;` resolving itself: outside the crate
                return self.resolve(dm, list(usegs) + list(segs[i + 1:]), depth + 1)
            moved = False
            for dm, gsegs in cur.globs:
                g = self.resolve(dm, gsegs, depth + 1)
                if g is not None and g is not cur and (s in g.children or s in g.uses):
                    cur, moved = g, True
                    break
            if not moved:
                break
        if bare and i == start:
            return None
        return cur

    def sibling_edges(self):
        """{(parent, a, b): (file, line)} with the first reference behind each edge."""
        edges = {}
        for r in self.refs:
            t = self.resolve(r.module, r.segs)
            f = r.module
            if t is None or t is f:
                continue
            fp, tp = f.path, t.path
            k = 0
            while k < len(fp) and k < len(tp) and fp[k] == tp[k]:
                k += 1
            if k == len(fp) or k == len(tp):
                continue  # ancestor or descendant
            key = (fp[:k], fp[k], tp[k])
            loc = (r.file, r.line)
            if key not in edges or loc < edges[key]:
                edges[key] = loc
        return edges


# --------------------------------------------------------------------------------------
# Cycles.


def sccs(nodes, succ):
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in succ.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    for v in nodes:
        if v not in index:
            visit(v)
    return sorted(out)


def elementary_cycles(comp, succ, limit):
    """Simple cycles within comp, each starting at its smallest node; at most limit."""
    cycles = []
    members = set(comp)
    for s in comp:
        allowed = {v for v in members if v >= s}
        path = [s]
        on_path = {s}

        def dfs(v):
            for w in succ.get(v, ()):
                if len(cycles) >= limit:
                    return
                if w == s:
                    cycles.append(path + [s])
                elif w in allowed and w not in on_path:
                    path.append(w)
                    on_path.add(w)
                    dfs(w)
                    path.pop()
                    on_path.discard(w)

        dfs(s)
    return sorted(cycles, key=lambda c: (len(c), c))


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    show_edges = "--edges" in argv
    if not args or any(a in ("-h", "--help") for a in argv):
        sys.stdout.write(__doc__)
        return 0 if args else 2
    crates = []
    for src in args:
        src = os.path.normpath(src)
        roots = [f for f in ("lib.rs", "main.rs") if os.path.isfile(os.path.join(src, f))]
        if not roots:
            sys.stderr.write(f"error: {src}: no lib.rs or main.rs\n")
            return 2
        for f in roots:
            label = src if f == "lib.rs" or len(roots) == 1 else f"{src} ({f})"
            crates.append(Crate(src, f, label))

    n_cycles = n_edges = n_modules = 0
    for crate in crates:
        edges = crate.sibling_edges()
        n_edges += len(edges)
        n_modules += len(crate.modules) - 1
        by_parent = {}
        for (parent, a, b), loc in edges.items():
            by_parent.setdefault(parent, {}).setdefault(a, set()).add(b)
        if show_edges:
            for (parent, a, b), (file, line) in sorted(edges.items()):
                print(f"{crate.label}: edge {'::'.join(parent + (a,))} -> "
                      f"{'::'.join(parent + (b,))} ({file}:{line})")
        for parent in sorted(by_parent):
            succ = {k: sorted(v) for k, v in by_parent[parent].items()}
            nodes = sorted(set(succ) | {w for vs in succ.values() for w in vs})
            for comp in sccs(nodes, succ):
                if len(comp) < 2:
                    continue
                limit = 50
                cycles = elementary_cycles(comp, succ, limit)
                for cyc in cycles:
                    names = " -> ".join("::".join(parent + (m,)) for m in cyc)
                    locs = ", ".join("%s:%d" % edges[(parent, a, b)]
                                     for a, b in zip(cyc, cyc[1:]))
                    print(f"{crate.label}: {names} ({locs})")
                    n_cycles += 1
                if len(cycles) >= limit:
                    members = ", ".join("::".join(parent + (m,)) for m in comp)
                    print(f"{crate.label}: ... more cycles among {members}")
    summary = (f"{len(crates)} crate root(s), {n_modules} module(s), "
               f"{n_edges} sibling edge(s)")
    if n_cycles:
        print(f"check-module-cycles: {n_cycles} cycle(s) found ({summary})")
        return 1
    print(f"check-module-cycles: no cycles ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
