# Browser area: the headless Chromium the console's browser test drives (tests/browser).
# Debian's `chromium` package, installed where missing; Playwright (a pinned dev dependency)
# drives it through executable_path and never downloads a browser of its own.
CHROMIUM ?= /usr/bin/chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

SETUP_TARGETS += chromium

.PHONY: chromium

chromium:  ## install Debian's chromium for the browser test, when missing
	@if [ -x "$(CHROMIUM)" ]; then \
	  echo "chromium: $$($(CHROMIUM) --version 2>/dev/null || echo $(CHROMIUM))"; \
	else \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$sudo apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends chromium; \
	fi
