"""Drive rnr-demo in a real headless Chromium (Debian's chromium and chromium-driver, through selenium).

Used by tests/test_demo.py; run alone it starts a demo and takes the README's screenshot:

    python tests/browser.py docs/demo.png
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Iterator

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
INSTALL = "apt-get install -y chromium chromium-driver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--window-size=1280,1000")
DEMO_PHOTO = Path(__file__).resolve().parents[1] / "rnr" / "assets" / "demo" / "motorcycle-fog-rain-noise.png"


def missing() -> str | None:
    """What is not installed for the browser test, as the line that installs it; None when all is there."""
    if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
        return f"no {CHROMIUM} or {CHROMEDRIVER}: {INSTALL}"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def demo_server(*options: str, timeout: float = 600.0) -> Iterator[str]:
    """`rnr-demo` on a free local port while inside; yields its URL, and stops it (by its own pid) after.

    `timeout` is generous: alone on two cores the demo answers in about 20 s, but on a loaded
    machine importing gradio alone took 110 s.
    """
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "rnr.cli.demo", "--port", str(port), *options],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"rnr-demo exited with {server.returncode}: {server.stdout.read()}")
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url, timeout=30).close()
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"rnr-demo did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium with a fresh profile, driven by selenium; closed after."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="rnr-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def upload_and_run(driver, url: str, photo: Path, wait_for: str, timeout: float = 600.0) -> str:
    """Open the page, upload `photo`, press the button; the page's text once `wait_for` appears in it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 120).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#rnr-photo input[type=file]"))
    driver.find_element(By.CSS_SELECTOR, "#rnr-photo input[type=file]").send_keys(str(photo))
    WebDriverWait(driver, 120).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#rnr-photo img"))  # the upload landed
    driver.find_element(By.ID, "rnr-go").click()
    WebDriverWait(driver, timeout).until(lambda d: wait_for in d.find_element(By.TAG_NAME, "body").text)
    return driver.find_element(By.TAG_NAME, "body").text


def slider_images(driver, timeout: float = 60.0) -> list[tuple[str, int]]:
    """(src, natural width) of each image the before/after slider shows, once both have loaded (or `timeout` passed)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def widths(d):
        return [image.get_property("naturalWidth") for image in d.find_elements(By.CSS_SELECTOR, "#rnr-slider img")]

    with contextlib.suppress(TimeoutException):  # what did not load shows as width 0, for the test to say
        WebDriverWait(driver, timeout).until(lambda d: len(widths(d)) == 2 and all(widths(d)))
    return [(image.get_attribute("src"), image.get_property("naturalWidth")) for image in driver.find_elements(By.CSS_SELECTOR, "#rnr-slider img")]


def screenshot(path: Path) -> None:
    """The README's picture: the demo after restoring the motorcycle demo photo."""
    with demo_server() as url, chromium() as driver:
        upload_and_run(driver, url, DEMO_PHOTO, wait_for="Diagnosed by")
        slider_images(driver)
        time.sleep(1)  # the slider's images fade in
        driver.save_screenshot(str(path))


if __name__ == "__main__":
    if problem := missing():
        sys.exit(problem)
    screenshot(Path(sys.argv[1]))
