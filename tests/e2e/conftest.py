"""Real-browser tests: Playwright drives Debian's Chromium against a live server.

The server runs in a thread of this process on a transactional test database; a real Celery worker
runs in another thread where a flow needs one, so mails land in `django.core.mail.outbox`. Where
Chromium or Playwright is missing, every test here is skipped with the command that installs it.
axe-core (bundled by axe-playwright-python) checks each public page for accessibility.
"""

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core import mail

from privacy.staff.two_factor import requires_two_factor
from tests.two_factor import confirmed_device, current_code

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"
INSTALL_HINT = (
    "install Chromium with `apt-get update && apt-get install -y chromium` and the Python "
    "packages with `make install`"
)


def missing_browser() -> str:
    """Return why the browser tests cannot run here, or '' when they can."""
    try:
        import axe_playwright_python  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"Playwright is not installed: {INSTALL_HINT}"
    if not (CHROMIUM.exists() or shutil.which(str(CHROMIUM))):
        return f"no Chromium at {CHROMIUM}: {INSTALL_HINT}"
    return ""


@pytest.fixture(autouse=True)
def _worker_idle_before_flush(request) -> Iterator[None]:
    """After a test with a module's Celery worker, wait until it has no task queued or running.

    A task the test queued last and a worker ran after it would meet the next test's emptied
    tables: on SQLite it locks them against the flush, and it finds its rows gone.
    """
    yield
    if "worker" not in request.fixturenames:
        return
    from celery.worker import state

    from config.celery import app

    folder = (app.conf.broker_transport_options or {}).get("data_folder_in")
    deadline, quiet_since = time.monotonic() + 30, None
    while time.monotonic() < deadline:
        queued = folder is not None and any(Path(folder).iterdir())
        if queued or state.active_requests or state.reserved_requests:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 0.3:
            return
        time.sleep(0.05)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One headless Chromium per test module.

    Not per session: while Playwright runs, its event loop sits on this thread, so it must stop
    before the next module's tests (or subprocesses inheriting the variable below) run.
    """
    if why := missing_browser():
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread, which makes Django refuse ORM
    # calls from it; the tests call the ORM between browser steps, never from a coroutine.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def site(live_server, settings, tmp_path) -> str:
    """The live server's address; links in mails point at it, exports go to a private folder."""
    settings.SITE_URL = live_server.url
    settings.CSRF_TRUSTED_ORIGINS = [live_server.url]
    settings.PRIVATE_FILES_DIR = tmp_path / "private"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    mail.outbox.clear()
    return live_server.url


class Visitor:
    """A browser tab with its language, failing on any script the CSP had to block."""

    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.blocked: list[str] = []
        page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.blocked.append(message.text)

    def open(self, path: str):
        """Go to a path of the site (or a full URL) and return the page."""
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        response = self.page.goto(url)
        assert response is not None and response.ok, (
            f"{url} answered {response and response.status}"
        )
        return self.page

    def heading(self) -> str:
        """Return the page's main heading."""
        return self.page.locator("h1").first.inner_text().strip()


@pytest.fixture
def visitor_factory(browser, site) -> Iterator:
    """Open browser tabs speaking a given language (Accept-Language); close them afterwards."""
    contexts = []

    def new_visitor(locale: str = "en-GB") -> Visitor:
        context = browser.new_context(locale=locale, viewport={"width": 1100, "height": 850})
        context.set_default_timeout(10_000)
        contexts.append(context)
        visitor = Visitor(context.new_page(), site)
        visitors.append(visitor)
        return visitor

    visitors: list[Visitor] = []
    yield new_visitor
    for visitor in visitors:
        assert not visitor.blocked, f"the CSP blocked something: {visitor.blocked}"
    for context in contexts:
        context.close()


def assert_accessible(page) -> None:
    """Fail on any serious or critical axe-core violation on the page as it stands."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    serious = [
        f"{violation['id']} ({violation['impact']}): "
        + ", ".join(str(node["target"]) for node in violation["nodes"])
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert not serious, f"{page.url}: " + "; ".join(serious)


KEYBOARD_WALK = """() => {
  const controls = [...document.querySelectorAll('main input:not([type=hidden]), main select,'
    + ' main textarea, main button, header select, header button')];
  // A group of radio buttons is one stop: arrow keys move within it.
  const stops = new Map();
  for (const c of controls) stops.set(c.type === 'radio' ? 'radio:' + c.name : c, c);
  const label = k => typeof k === 'string' ? k : (k.id || k.name || k.textContent.trim());
  return [...stops.keys()].map(label);
}"""
FOCUSED = """() => {
  const e = document.activeElement;
  return e.type === 'radio' ? 'radio:' + e.name : (e.id || e.name || e.textContent.trim());
}"""


def assert_keyboard_reaches_every_control(page) -> None:
    """Tab through the page from the top and fail unless every form control gets the focus."""
    expected = page.evaluate(KEYBOARD_WALK)
    reached = set()
    page.locator("body").focus()
    for _ in range(len(expected) * 3 + 10):
        page.keyboard.press("Tab")
        reached.add(page.evaluate(FOCUSED))
    missing = [control for control in expected if control not in reached]
    assert not missing, f"{page.url}: the keyboard never reaches {missing}"


def screenshot(page, name: str) -> None:
    """Save the page for the guides in docs/ (docs/img/<name>.png)."""
    if not os.environ.get("E2E_SCREENSHOTS"):  # `make screenshots`; plain test runs leave docs be
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def link_in_mail(body: str, path_prefix: str) -> str:
    """Return the one link in a mail body whose path starts with `path_prefix`."""
    (link,) = {url for url in re.findall(r"https?://\S+", body) if path_prefix in url}
    return link.rstrip(".,")


def log_in_as_staff(visitor: Visitor, user, password: str, *, start: str = "/admin/login/"):
    """Log in through the admin's login page and, where the role needs it, the code page."""
    device = confirmed_device(user) if requires_two_factor(user) else None
    page = visitor.open(start)
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    if device is not None:
        page.locator("input[name=code]").fill(current_code(device))
        page.get_by_role("button", name="Verify").click()
    return page
