"""Schemathesis hooks for the API run of .ci/run.

JSON Schema speaks of values, not of their text: to it `1.0` is the integer 1. Hisaab's number
profile (SPEC §1) is lexical as well: a number in an envelope is written as plain digits, and
`1.0` or `1e3` is refused as `malformed_envelope`. The OpenAPI description says so in words but
cannot say it in a schema, and Python's JSON writes an integral float as `1.0`; so the generated
bodies are written with integers where a float has an integral value. Nothing else is changed.
"""

import schemathesis


def _plain_integers(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_plain_integers(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain_integers(item) for key, item in value.items()}
    return value


@schemathesis.hook
def map_body(context, body):
    return _plain_integers(body)
