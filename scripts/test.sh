#!/usr/bin/env bash
# The whole test suite, on SQLite and on PostgreSQL: unit tests, the store's
# contract tests, integration tests of the real app, CLI tests that run the
# binary, and a browser test in headless Chromium. Installs what the tests
# need when it is missing. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Chromium and chromedriver, from Debian's packages, for the browser test.
if ! command -v chromedriver >/dev/null 2>&1 && [ ! -x /usr/lib/chromium/chromedriver ]; then
  echo "test.sh: installing chromium and chromium-driver for the browser test…"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# A real mail system for the e-mail channel's tests: Dovecot's IMAP server
# from Debian's packages (the tests start their own, on their own ports)
# and aiosmtpd, an SMTP server from PyPI, delivering to its Maildirs.
if ! [ -x /usr/sbin/dovecot ]; then
  echo "test.sh: installing dovecot-imapd for the e-mail channel's tests…"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq dovecot-imapd >/dev/null
fi
AIOSMTPD_VERSION=1.4.6
if ! python3 -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$AIOSMTPD_VERSION')" 2>/dev/null; then
  echo "test.sh: installing aiosmtpd $AIOSMTPD_VERSION for the e-mail channel's tests…"
  python3 -m pip install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
fi

# Schemathesis, from PyPI, for the test that checks the API against its
# OpenAPI document.
SCHEMATHESIS_VERSION=4.32.5
if ! command -v schemathesis >/dev/null 2>&1 || ! schemathesis --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "test.sh: installing schemathesis $SCHEMATHESIS_VERSION for the OpenAPI conformance test…"
  python3 -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres): start the local
# cluster if it is installed but stopped. The tests fail, never skip, when it
# cannot be reached.
export DOORSTEP_TEST_POSTGRES="${DOORSTEP_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "test.sh: starting the local PostgreSQL cluster…"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
fi

cargo test --workspace --locked "$@"
