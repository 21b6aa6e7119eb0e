# Developer shortcuts. The README's two commands need none of these.
PYTHON ?= .venv/bin/python

.PHONY: test package package-full smoke smoke-full clean-package

test:
	$(PYTHON) -m pytest

# One-folder desktop builds (PyInstaller, packaging/colorgui.spec), each then smoke-tested:
# the lean one (ONNX Runtime on a CPU, no torch) in dist/colorgui, the full one (torch:
# fine-tuning, CUDA, the paper model) in dist/colorgui-full.
# $(1): the flavour (COLORGUI_FLAVOUR), $(2): its folder in dist/
define freeze
	$(PYTHON) -m pip install -q -e '.[package]'
	COLORGUI_FLAVOUR=$(1) $(PYTHON) -m PyInstaller --noconfirm --clean --distpath dist \
		--workpath build/pyinstaller-$(1) packaging/colorgui.spec
	packaging/smoke_test.sh dist/$(2)
endef

package:
	$(call freeze,lean,colorgui)

package-full:
	$(call freeze,full,colorgui-full)

smoke:
	packaging/smoke_test.sh dist/colorgui

smoke-full:
	packaging/smoke_test.sh dist/colorgui-full

clean-package:
	rm -rf dist/colorgui dist/colorgui-full build/pyinstaller-lean build/pyinstaller-full
