"""A report opened in a real browser (headless Chromium): no console errors, every image
decoded, nothing fetched, a screenshot that is not blank. Skipped only when no Chromium exists."""

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on PATH (Debian: apt-get install -y "
                                                          "chromium); the structural report tests still run")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]

# Injected into a copy of the report (the report itself has no script): records errors, CSP
# violations, console.error calls, each image's decode state and every fetched resource.
PROBE = """<script>
(function () {
  var errors = [];
  window.addEventListener("error", function (e) {
    errors.push("error: " + (e.message || (e.target && (e.target.src || e.target.href)) || "resource"));
  }, true);
  document.addEventListener("securitypolicyviolation", function (e) {
    errors.push("csp: " + e.blockedURI + " " + e.violatedDirective);
  });
  var original = console.error;
  console.error = function () { errors.push("console: " + [].join.call(arguments, " ")); original.apply(console, arguments); };
  window.addEventListener("load", function () {
    var images = [].map.call(document.images, function (i) {
      return {alt: i.alt, ok: i.complete && i.naturalWidth > 0, width: i.naturalWidth};
    });
    var resources = performance.getEntriesByType("resource").map(function (r) { return r.name.slice(0, 60); });
    var sections = [].map.call(document.querySelectorAll("section"), function (s) { return s.id; });
    var out = document.createElement("pre");
    out.id = "tw-probe";
    out.textContent = JSON.stringify({errors: errors, images: images, resources: resources, sections: sections});
    document.body.appendChild(out);
  });
})();
</script>"""


def chromium(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:  # a new, empty profile every time
        return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=timeout)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def check_in_browser(report: Path, tmp_path: Path, expect_images: int) -> None:
    html = report.read_text()
    # The copy allows inline script for the probe only; everything else in the policy stays.
    probed = html.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';", 1)
    probed = probed.replace("</head>", PROBE + "</head>", 1)
    copy = tmp_path / "probed.html"
    copy.write_text(probed)
    done = chromium("--virtual-time-budget=10000", "--dump-dom", copy.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    m = re.search(r'<pre id="tw-probe">(.*?)</pre>', done.stdout, re.S)
    assert m, "the probe did not run: " + done.stdout[-500:]
    probe = json.loads(m.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    assert probe["errors"] == [], probe["errors"]
    assert console_lines(done.stderr) == []
    assert len(probe["images"]) == expect_images
    assert all(i["ok"] and i["width"] > 100 for i in probe["images"]), probe["images"]
    assert all(r.startswith("data:") for r in probe["resources"]), probe["resources"]

    # The report itself, untouched: no console output (a CSP violation would log one), and a
    # screenshot with real content.
    shot = tmp_path / "shot.png"
    done = chromium("--window-size=1280,2400", f"--screenshot={shot}", report.as_uri())
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    assert console_lines(done.stderr) == []
    from PIL import Image

    import numpy as np

    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape[:2] == (2400, 1280)
    ink = (pixels.min(axis=2) < 200).mean()  # share of pixels that are not (near) white
    colours = len(np.unique(pixels.reshape(-1, 3)[::7], axis=0))
    assert ink > 0.005 and colours > 100, (ink, colours)  # blank: 0 and 1; this report: about 0.02 and 1500


def test_run_report_in_chromium(class_run, tmp_path):
    check_in_browser(class_run / "report.html", tmp_path, expect_images=4)


def test_regression_report_in_chromium(regression_run, tmp_path):
    check_in_browser(regression_run / "report.html", tmp_path, expect_images=4)
