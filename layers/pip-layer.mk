# The recipe of the layers `sam build` pip-installs from a pinned requirements.txt (ArrowLayer,
# WranglerLayer; Metadata BuildMethod: makefile, ARTIFACTS_DIR set by SAM). Each such layer's directory
# holds a link to this file (pip-layer.mk -> ../pip-layer.mk): SAM's build cache hashes only the layer's
# own directory, and follows the link, so a change here rebuilds the layers (docs/dependencies.md).
#
# 1. pip installs exactly the pinned file for the Lambda runtime (CPython 3.13, arm64, Amazon Linux 2023:
#    glibc 2.34), wheels only, no dependency resolution (the file pins the closure, except what the other
#    layers of the same functions ship: tests/test_dependencies.py), no .pyc;
# 2. `trim` removes what no function imports: test suites, C/C++ and Cython sources and headers (for
#    compiling against a package), console scripts;
# 3. and strips the shared objects' symbol tables. llvm-strip reads any architecture; GNU strip on an
#    x86_64 machine does not read aarch64.
# Every function's code and layers must stay under Lambda's 250 MB unzipped: `make build` prints them.
# find and rm with POSIX/BSD options only, so macOS builds too (tests/layers/test_recipes_portable.py).
PYTHON313 ?= python3.13
# llvm-strip on PATH, else Debian's versioned one, else Homebrew's (keg-only: not on PATH by default).
HOMEBREW_STRIP := $(wildcard /opt/homebrew/opt/llvm/bin/llvm-strip /usr/local/opt/llvm/bin/llvm-strip)
DEBIAN_STRIP := $(lastword $(sort $(wildcard /usr/bin/llvm-strip-*)))
STRIP ?= $(or $(shell command -v llvm-strip 2>/dev/null),$(DEBIAN_STRIP),$(firstword $(HOMEBREW_STRIP)),llvm-strip)
LAMBDA_PLATFORMS := manylinux_2_34_aarch64 manylinux_2_28_aarch64 manylinux2014_aarch64
SOURCE_FILES := -name '*.h' -o -name '*.hpp' -o -name '*.c' -o -name '*.cc' -o -name '*.cpp' \
	-o -name '*.pyx' -o -name '*.pxd' -o -name '*.pxi'

.PHONY: pip-layer trim

# What `make build` says of each layer (sam build passes the recipe's output on): what is installed, then its size.
LAYER_NAME := layers/$(notdir $(patsubst %/,%,$(HERE)))

pip-layer:
	test -n "$(ARTIFACTS_DIR)"
	@echo "$(LAYER_NAME): pip-installing requirements.txt ($$(grep -c '^[A-Za-z0-9].*==' "$(HERE)requirements.txt") pinned) for the Lambda runtime (Python 3.13, arm64) ..."
	$(PYTHON313) -m pip install --disable-pip-version-check --root-user-action=ignore --quiet --no-compile --no-deps \
		--only-binary=:all: --implementation cp --python-version 3.13 \
		$(addprefix --platform ,$(LAMBDA_PLATFORMS)) \
		--target "$(ARTIFACTS_DIR)/python" -r "$(HERE)requirements.txt"
	$(MAKE) --no-print-directory -f "$(HERE)pip-layer.mk" trim LAYER_PYTHON="$(ARTIFACTS_DIR)/python"
	@echo "$(LAYER_NAME): $$(( $$(du -sk "$(ARTIFACTS_DIR)/python" | cut -f1) / 1024 )) MB unzipped, trimmed and stripped"

trim:
	test -d "$(LAYER_PYTHON)"
	@command -v $(STRIP) >/dev/null || { echo "llvm-strip not found: it strips the layers' aarch64 shared objects, so that Compact and Refresh stay under Lambda's 250 MB (Debian/Ubuntu: apt-get install llvm; macOS: brew install llvm; or STRIP=/path/to/llvm-strip)" >&2; exit 1; }
	find "$(LAYER_PYTHON)" -depth -type d \( -name tests -o -name __pycache__ \) -exec rm -rf {} +
	rm -rf "$(LAYER_PYTHON)/bin"
	find "$(LAYER_PYTHON)" -type f \( $(SOURCE_FILES) \) -delete
	find "$(LAYER_PYTHON)" -type d -empty -delete
	find "$(LAYER_PYTHON)" -type f \( -name '*.so' -o -name '*.so.*' \) -exec $(STRIP) --strip-unneeded {} +
