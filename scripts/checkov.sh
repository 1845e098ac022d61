#!/usr/bin/env bash
# checkov on template.yaml, as written (SAM) and after the SAM transform (the IAM roles,
# permissions and stages SAM generates), with the suppressions and settings of .checkov.yaml.
# Non-zero exit when a check fails. Extra arguments go to checkov (e.g. -o json).
#
# checkov lives in its own venv, .local/checkov-venv (git-ignored), installed from the lock
# requirements-checkov.txt: its pinned dependencies conflict with aws-sam-cli's in .venv.
# The venv is (re)built only when that file changes.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.local/checkov-venv
REQS=requirements-checkov.txt
TRANSFORMED=.local/checkov/template.transformed.json
export PIP_DISABLE_PIP_VERSION_CHECK=1

stamp="$VENV/.installed-$(sha1sum "$REQS" | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "==> installing checkov into $VENV"
  command -v "$PYTHON" >/dev/null || { echo "error: $PYTHON not found"; exit 1; }
  test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet -r "$REQS"
  rm -f "$VENV"/.installed-* && touch "$stamp"
fi

# The SAM transform comes from .venv (aws-sam-translator, as `make install` sets it up).
test -x .venv/bin/python || { echo "error: .venv is missing; run make install"; exit 1; }
.venv/bin/python -m tests.integration.test_template_policy --transformed "$TRANSFORMED"

echo "==> checkov ($("$VENV/bin/checkov" --version)): template.yaml and its SAM transform"
# --skip-download (in .checkov.yaml) keeps checkov offline: no guideline or policy download.
exec "$VENV/bin/checkov" --config-file .checkov.yaml \
  --file template.yaml --file "$TRANSFORMED" "$@"
