"""Who may call the admin API.

Who may call. Deployed, every admin route has API Gateway's AWS_IAM authoriser: only
requests signed (SigV4) by a principal allowed `execute-api:Invoke` on them reach the
function. The function still requires the identity API Gateway then puts in
`requestContext.authorizer.iam` (a route deployed without the authoriser refuses everything)
and records its `userArn` as who made the change. Locally there is no IAM: the environment
variable ADMIN_TOKEN enables `Authorization: Bearer <token>`, compared in constant time. No
credentials: 401 with `WWW-Authenticate: Bearer`; a wrong token, or neither IAM nor a token
configured: 403. A refused call reads and writes nothing.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from typing import Any


class AdminError(Exception):
    """A refused admin call; `status` is its HTTP status, the message says why."""

    status = 400


class Unauthorized(AdminError):
    status = 401


class Forbidden(AdminError):
    status = 403


def caller(request_context: Mapping[str, Any], headers: Mapping[str, str]) -> str:
    """Who makes this admin call (an IAM user or role ARN, or "local-token"), else
    Unauthorized (no credentials) or Forbidden (wrong ones, or none configured)."""
    authorizer = request_context.get("authorizer")
    iam = authorizer.get("iam") if isinstance(authorizer, Mapping) else None
    if isinstance(iam, Mapping) and (iam.get("userArn") or iam.get("callerId")):
        # API Gateway verified the SigV4 signature and the caller's permission.
        return str(iam.get("userArn") or f"{iam.get('accountId')}:{iam.get('callerId')}")
    expected = os.environ.get("ADMIN_TOKEN", "")
    if not expected:
        raise Forbidden(
            "the admin API needs IAM authorisation (AWS_IAM on its routes), or ADMIN_TOKEN "
            "when run locally"
        )
    given = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    scheme, _, credentials = given.strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthorized("missing credentials: send Authorization: Bearer <ADMIN_TOKEN>")
    if not hmac.compare_digest(credentials.strip().encode(), expected.encode()):
        raise Forbidden("wrong admin token")
    return "local-token"
