# LocalStack area: the second local AWS (tests/integration/localstack), in its own venv under
# pyenv's Python 3.13.0 (localstack-core 4.14.0 needs >= 3.13 and the project's venv is 3.11).
# Idempotent: the venv is rebuilt only when the pinned set changes. Where Python 3.13.0 is
# absent, `make setup` says so and goes on; the LocalStack test then skips (and fails under CI).
LOCALSTACK_VENV ?= .venv-localstack
LOCALSTACK_PY ?= $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/3.13.0/bin/python
LOCALSTACK_CONSTRAINTS := tooling/localstack-constraints.txt
# The four pins are not localstack-core's own requirements (twisted wants service_identity, the
# gateway cbor2, its TLS pyOpenSSL/cryptography): named here, held by the constraints file.
LOCALSTACK_REQUIREMENTS := "localstack-core[runtime]" cbor2 pyOpenSSL cryptography service_identity

SETUP_TARGETS += localstack
CLEAN_TARGETS += localstack-clean

.PHONY: localstack localstack-clean

localstack:  ## the LocalStack venv (.venv-localstack), where pyenv has Python 3.13.0
	@if [ -x "$(LOCALSTACK_PY)" ]; then \
	  $(MAKE) --no-print-directory $(LOCALSTACK_VENV)/.installed; \
	else \
	  echo "localstack: no Python 3.13.0 at $(LOCALSTACK_PY); LocalStack not installed (its test skips)"; \
	fi

$(LOCALSTACK_VENV)/.installed: $(LOCALSTACK_CONSTRAINTS)
	rm -rf $(LOCALSTACK_VENV)
	$(LOCALSTACK_PY) -m venv $(LOCALSTACK_VENV)
	$(LOCALSTACK_VENV)/bin/pip install -q --upgrade pip
	$(LOCALSTACK_VENV)/bin/pip install -q -c $(LOCALSTACK_CONSTRAINTS) $(LOCALSTACK_REQUIREMENTS)
	touch $@

localstack-clean:  ## remove the LocalStack venv
	rm -rf $(LOCALSTACK_VENV)
