"""seedfiles.py - writing a seed corpus, for the make_*_corpus.py generators:
    write(DEFAULT_DIR, {name: bytes or str})
writes each seed to a file of its name in the directory given as the
generator's first argument (default DEFAULT_DIR), emptied first."""
import os, shutil, sys


def write(default, seeds):
    d = sys.argv[1] if len(sys.argv) > 1 else default
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, b in sorted(seeds.items()):
        with open(os.path.join(d, name), "wb" if isinstance(b, bytes) else "w") as f:
            f.write(b)
    print("%d seeds in %s" % (len(seeds), d))
