"""Which new passwords are accepted: at least 10 characters (in the wire types) and not easy to guess.

"Easy to guess" is judged by zxcvbn (Dropbox's estimator, the maintained Python port): it knows
common passwords, dictionary words, names, keyboard patterns, sequences, repeats and dates, and
takes the words of this account (email, name, organization) as a dictionary too, so `1234567890`,
`password12`, ten spaces and the account's own email are all refused, with its feedback on why
and what would be better. A list of common passwords alone would miss patterns and the context.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from typing import Any

from zxcvbn import zxcvbn

from dispatch.errors import Unprocessable

# zxcvbn's scale is 0-4; 3 means "safely unguessable" (about 10^8 guesses or more), its own
# recommendation for sites that also throttle online guessing (we do: throttle.py).
MIN_SCORE = 3
# zxcvbn refuses longer input (its matching grows with the square of the length); a password whose
# first 72 characters are strong is strong.
_ZXCVBN_MAX = 72
# Words anyone would try against this product's accounts.
_PRODUCT_WORDS = ("dispatch", "freight")


def context_words(*texts: str | None) -> list[str]:
    """The words of an email, a name or an organization, as zxcvbn's `user_inputs`."""
    words: list[str] = []
    for text in texts:
        if not text:
            continue
        text = text.lower()
        # The whole, the whole run together ("franzhuber", "wachaucargo") and each word.
        words.extend([text, re.sub(r"[^\w]+", "", text)])
        words.extend(w for w in re.split(r"[^\w]+", text) if len(w) >= 3)
    return list(dict.fromkeys([*words, *_PRODUCT_WORDS]))


def weakness(password: str, context: Iterable[str]) -> dict[str, Any] | None:
    """None if the password is strong enough, else zxcvbn's verdict: score, warning, suggestions."""
    verdict = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=list(context))
    if verdict["score"] >= MIN_SCORE:
        return None
    feedback = verdict["feedback"]
    return {
        "score": verdict["score"],
        "warning": feedback.get("warning") or "This password would be easy to guess.",
        "suggestions": list(feedback.get("suggestions") or [])
        or ["Use a few uncommon words, or a password manager's random password."],
    }


def refuse_if_weak(password: str, context: Iterable[str]) -> None:
    """Raise 422 `password_too_weak` saying why and how to do better."""
    verdict = weakness(password, context)
    if verdict is None:
        return
    advice = " ".join(verdict["suggestions"])
    raise Unprocessable(
        f"The password is too easy to guess: {verdict['warning']} {advice}".strip(),
        code="password_too_weak",
        **verdict,
    )


async def check_new_password(password: str, context: Iterable[str]) -> None:
    # zxcvbn takes a few milliseconds of CPU: keep it off the event loop like the hashing.
    await asyncio.to_thread(refuse_if_weak, password, list(context))
