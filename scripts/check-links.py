#!/usr/bin/env python3
"""check-links: every relative link and image in README.md and docs/*.md
must name a file or folder git tracks, and a #fragment must name a
heading of the Markdown file it points at (GitHub's heading anchors).
Links that leave the repository (../ above its root, absolute paths) fail.

    scripts/check-links.py        # or: make check-links
"""
import glob, os, re, subprocess, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(root)
link = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')
fence = re.compile(r'^\s*(```|~~~)')


def anchors(path):
    out, infence = set(), False
    for line in open(path, encoding='utf-8'):
        if fence.match(line):
            infence = not infence
        if infence or not line.startswith('#'):
            continue
        text = line.lstrip('#').strip().lower()
        slug = re.sub(r'[^\w\- ]', '', text).replace(' ', '-')
        n, s = 1, slug
        while s in out:
            s, n = '%s-%d' % (slug, n), n + 1
        out.add(s)
    return out


tracked = set(subprocess.run(['git', 'ls-files'], capture_output=True, text=True, check=True).stdout.split('\n'))
dirs = set()
for f in tracked:
    d = os.path.dirname(f)
    while d and d not in dirs:
        dirs.add(d)
        d = os.path.dirname(d)

bad = 0
for md in ['README.md'] + sorted(glob.glob('docs/*.md')):
    lines, infence = [], False
    for line in open(md, encoding='utf-8'):
        if fence.match(line):
            infence = not infence
            line = '\n'
        lines.append('\n' if infence else line)
    text = ''.join(lines)
    for m in link.finditer(text):
        target = m.group(1)
        no = text.count('\n', 0, m.start()) + 1
        if re.match(r'^[a-z]+:', target):
            continue  # http:, https:, mailto:
        path, _, frag = target.partition('#')
        dest = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
        why = None
        if os.path.isabs(path) or dest.startswith('..'):
            why = 'outside the repository'
        elif not os.path.exists(dest):
            why = 'no such file'
        elif dest not in tracked and dest not in dirs and dest != '.':
            why = 'not tracked by git'
        elif frag and dest.endswith('.md') and frag not in anchors(dest):
            why = 'no heading #' + frag
        if why:
            print('%s:%d: %s: %s' % (md, no, target, why))
            bad += 1
print('check-links: %d broken' % bad if bad else 'check-links: all links resolve')
sys.exit(1 if bad else 0)
