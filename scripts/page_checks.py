"""What the headless-Chromium page checks share: a named check that records its failure, the
browser (Debian's chromium through Playwright), and the verdict at the end."""
import sys

failures = []


def check(condition, what):
    print(("ok: " if condition else "FAILED: ") + what)
    if not condition:
        failures.append(what)


def launch(playwright):
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])


def finish(name):
    if failures:
        print(f"{name}: {len(failures)} checks failed", file=sys.stderr)
        sys.exit(1)
    print(f"{name}: all checks passed")
