"""Write docs/images/demo-dashboard.png: the real ``gateway demo``'s dashboard in Chromium.

Starts the demo as `make demo` would (its own temporary folder and store, a free API port, an
embedded broker on a free port), signs in, waits until the dashboard shows what the product is
for (idle spaces, a released ghost booking, the heatmap, a recommendation, an alert and a work
order: tests/dashboard/demo.py, shared with the demo's browser test) and takes the page. Run by
``make screenshot``; needs Chromium (``GATEWAY_TEST_CHROMIUM``, default /usr/bin/chromium).

    python docs/gen_screenshot.py               # write docs/images/demo-dashboard.png
    python docs/gen_screenshot.py --out x.png   # somewhere else
    python docs/gen_screenshot.py --minutes 6   # wait longer on a slow machine
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the helper lives with the tests

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.dashboard.demo import (  # noqa: E402
    MINUTES,
    Demo,
    launch_chromium,
    sign_in,
    wait_until_shown,
)

OUT = ROOT / "docs" / "images" / "demo-dashboard.png"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--minutes", type=float, default=MINUTES, help="longest wait from the start")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gateway-screenshot-") as work:
        demo = Demo(Path(work)).start(timeout=args.minutes * 60)
        try:
            with sync_playwright() as p:
                browser = launch_chromium(p)
                page = browser.new_page(viewport={"width": 1280, "height": 1500})
                sign_in(page, demo.url, demo.TOKEN)
                page.wait_for_selector(".tile")
                seen = wait_until_shown(page, demo, args.minutes)
                took = demo.elapsed()
                args.out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.out))  # the top: tiles, side panels, heatmap
                browser.close()
        finally:
            demo.stop()
    missing = [name for name, ok in seen.items() if not ok]
    print(f"{args.out}: {args.out.stat().st_size} bytes, {took:.0f} s after the start")
    if missing:
        print(f"the dashboard did not show {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
