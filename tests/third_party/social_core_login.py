#!/usr/bin/env python3
"""python-social-auth's Facebook backend logs in against the fbgate Facebook emulator.

Usage: python3 tests/third_party/social_core_login.py http://127.0.0.1:PORT

The library (social-auth-core, pinned in requirements.txt) is used unmodified. What points it
at the emulator is configuration only: a subclass of `FacebookOAuth2` that sets the three URL
class attributes (`AUTHORIZATION_URL`, `ACCESS_TOKEN_URL`, `USER_DATA_URL`) to the emulator's
base URL, plus the usual `SOCIAL_AUTH_FACEBOOK_*` settings. The web framework around the
library is played by a small in-memory strategy (the part a Django or Flask integration would
provide), and the app's redirect URI is a local HTTP server that records the callback.

Scenarios:
1. login: the emulator is told (control API) to auto-consent as a new test user; the library
   builds the authorization URL, the script follows it to the app's callback, and the library
   checks `state`, exchanges the code, signs `/me` with `appsecret_proof` (the app requires
   it) and returns the user's id, name and email.
2. cancel: the emulator is told to answer as if the person pressed Cancel; the library raises
   `AuthCanceled` on the callback.

Exits 0 when both pass; prints what differed otherwise.
"""

from __future__ import annotations

import http.server
import queue
import sys
import threading
import urllib.parse
from importlib.metadata import version

import requests
from social_core.backends.facebook import FacebookOAuth2
from social_core.exceptions import AuthCanceled
from social_core.storage import BaseStorage, NonceMixin
from social_core.strategy import BaseStrategy

API_VERSION = "21.0"
FIELDS = "id,name,email,first_name,last_name"


class Failure(Exception):
    """A check of this script failed."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


# --- the framework side the library expects: settings, session, request data, storage ---


class MemoryNonce(NonceMixin):
    """Single-use `state` values, as social-core 7 keeps them (the OAuth2 state nonce)."""

    seen: dict[tuple[str, str], int] = {}

    @classmethod
    def use(cls, server_url, timestamp, salt):
        key = (server_url, salt)
        if key in cls.seen:
            return False
        cls.seen[key] = timestamp
        return True

    @classmethod
    def consume(cls, server_url, timestamp, salt):
        return cls.seen.pop((server_url, salt), None) == timestamp


class MemoryStorage(BaseStorage):
    nonce = MemoryNonce


class ScriptStrategy(BaseStrategy):
    """One browser session: a settings dict, a session dict and the current request's data."""

    def __init__(self, settings: dict):
        super().__init__(storage=MemoryStorage)
        self.settings = settings
        self.session: dict = {}
        self.data: dict = {}

    def get_setting(self, name):
        return self.settings[name]

    def get_request_data(self, merge=True):
        return dict(self.data)

    def request_host(self):
        return "127.0.0.1"

    def session_get(self, name, default=None):
        return self.session.get(name, default)

    def session_set(self, name, value):
        self.session[name] = value

    def session_pop(self, name):
        return self.session.pop(name, None)

    def build_absolute_uri(self, path=None):
        return path

    def redirect(self, url):
        return url

    def html(self, content):
        return content


class LoggedIn:
    """What the pipeline's last step hands back: the library's view of the user."""

    def __init__(self, uid, details, response):
        self.uid = uid
        self.details = details
        self.response = response


def finish_login(backend, uid, details, response, *args, **kwargs):
    """Last pipeline step (instead of creating a database user)."""
    return {"user": LoggedIn(uid, details, response)}


PIPELINE = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    f"{__name__}.finish_login",
)


def facebook_backend_at(base: str) -> type[FacebookOAuth2]:
    """The published backend with its Facebook URLs replaced by the emulator's."""

    class EmulatedFacebook(FacebookOAuth2):
        AUTHORIZATION_URL = base + "/v{version}/dialog/oauth"
        ACCESS_TOKEN_URL = base + "/v{version}/oauth/access_token"
        USER_DATA_URL = base + "/v{version}/me"

    return EmulatedFacebook


# --- the app's redirect URI ---


class Callback:
    """An HTTP server on 127.0.0.1:0 whose every GET is recorded and answered 200."""

    def __init__(self):
        received: queue.Queue[str] = queue.Queue()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                received.put(self.path)
                body = b"back at the app"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.received = received
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        port = self.server.server_address[1]
        self.redirect_uri = f"http://127.0.0.1:{port}/complete/facebook/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next_params(self) -> dict[str, str]:
        path = self.received.get(timeout=10)
        query = urllib.parse.urlsplit(path).query
        return dict(urllib.parse.parse_qsl(query, keep_blank_values=True))


# --- the emulator's control API ---


def control(base: str, method: str, path: str, body: dict) -> dict:
    response = requests.request(method, base + path, json=body, timeout=10)
    check(response.ok, f"{method} {path}: {response.status_code} {response.text}")
    return response.json()


def browser_visit(auth_url: str, callback: Callback) -> dict[str, str]:
    """What a browser does with the authorization URL: follow the redirects to the app."""
    response = requests.get(auth_url, timeout=10)
    check(
        response.status_code == 200 and response.url.startswith(callback.redirect_uri),
        f"the dialog did not redirect to the app: {response.status_code} {response.url}",
    )
    return callback.next_params()


def login(base: str, app: dict, callback: Callback, expect_user: dict) -> None:
    settings = {
        "SOCIAL_AUTH_FACEBOOK_KEY": app["app_id"],
        "SOCIAL_AUTH_FACEBOOK_SECRET": app["app_secret"],
        "SOCIAL_AUTH_FACEBOOK_SCOPE": ["email"],
        "SOCIAL_AUTH_FACEBOOK_PROFILE_EXTRA_PARAMS": {"fields": FIELDS},
        "SOCIAL_AUTH_FACEBOOK_API_VERSION": API_VERSION,
        "SOCIAL_AUTH_PIPELINE": PIPELINE,
    }
    backend_class = facebook_backend_at(base)
    strategy = ScriptStrategy(settings)

    # Request 1: the app sends the person to Facebook.
    auth_url = backend_class(strategy, redirect_uri=callback.redirect_uri).auth_url()
    check(auth_url.startswith(base + f"/v{API_VERSION}/dialog/oauth?"), auth_url)
    strategy.data = browser_visit(auth_url, callback)
    check("code" in strategy.data, f"no code in the callback: {strategy.data}")

    # Request 2: Facebook sent the person back; the library completes the login.
    user = backend_class(strategy, redirect_uri=callback.redirect_uri).auth_complete()
    check(isinstance(user, LoggedIn), f"the pipeline returned {user!r}")
    check(user.uid == expect_user["id"], f"uid {user.uid!r} != {expect_user['id']!r}")
    check(user.response.get("id") == expect_user["id"], f"response {user.response}")
    for key, want in [
        ("email", expect_user["email"]),
        ("fullname", expect_user["name"]),
        ("first_name", expect_user["first_name"]),
        ("last_name", expect_user["last_name"]),
    ]:
        got = user.details.get(key)
        check(got == want, f"details[{key!r}] = {got!r}, want {want!r}")
    check(user.response.get("access_token"), "no access token in the library's response")
    print(f"login: ok, {user.uid} {user.details['fullname']} <{user.details['email']}>")


def cancel(base: str, app: dict, callback: Callback) -> None:
    settings = {
        "SOCIAL_AUTH_FACEBOOK_KEY": app["app_id"],
        "SOCIAL_AUTH_FACEBOOK_SECRET": app["app_secret"],
        "SOCIAL_AUTH_FACEBOOK_API_VERSION": API_VERSION,
        "SOCIAL_AUTH_PIPELINE": PIPELINE,
    }
    backend_class = facebook_backend_at(base)
    strategy = ScriptStrategy(settings)
    auth_url = backend_class(strategy, redirect_uri=callback.redirect_uri).auth_url()
    strategy.data = browser_visit(auth_url, callback)
    check(strategy.data.get("error_reason") == "user_denied", f"callback {strategy.data}")
    try:
        user = backend_class(strategy, redirect_uri=callback.redirect_uri).auth_complete()
    except AuthCanceled as error:
        print(f"cancel: ok, the library raised {type(error).__name__}")
        return
    raise Failure(f"a cancelled login completed: {user!r}")


def main(base: str) -> int:
    base = base.rstrip("/")
    print(f"social-auth-core {version('social-auth-core')} against {base}")
    callback = Callback()
    try:
        app = control(
            base,
            "POST",
            "/_sim/apps",
            {
                "name": "python-social-auth",
                "redirect_uris": [callback.redirect_uri],
                "require_appsecret_proof": True,
            },
        )
        user = control(
            base,
            "POST",
            "/_sim/users",
            {
                "name": "Margaret Hamilton",
                "first_name": "Margaret",
                "last_name": "Hamilton",
                "email": "margaret@example.com",
            },
        )
        consent = f"/_sim/apps/{app['app_id']}/auto-consent"
        control(base, "POST", consent, {"user_id": user["id"]})
        login(base, app, callback, {**user, "first_name": "Margaret", "last_name": "Hamilton"})
        control(base, "POST", consent, {"user_id": user["id"], "cancel": True})
        cancel(base, app, callback)
    except Failure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        callback.server.shutdown()
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
