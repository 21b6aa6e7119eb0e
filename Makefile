# Developer shortcuts. The README's two commands need none of these.
PYTHON ?= .venv/bin/python

.PHONY: test package smoke clean-package

test:
	$(PYTHON) -m pytest

# A one-folder desktop build in dist/colorgui (PyInstaller), then its smoke test.
package:
	$(PYTHON) -m pip install -q -e '.[package]'
	$(PYTHON) -m PyInstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller \
		packaging/colorgui.spec
	packaging/smoke_test.sh dist/colorgui

smoke:
	packaging/smoke_test.sh dist/colorgui

clean-package:
	rm -rf dist/colorgui build/pyinstaller
