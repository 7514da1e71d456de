# Two commands on a fresh machine: `make run` and `make test`.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
CE      := $(VENV)/bin/content-engine
STAMP   := $(VENV)/.installed
LOCK    := requirements.lock
OUT     ?= out
PORT    ?= 8000
# The sample CRM that `make run` writes (`content-engine samples crm`) and the serial number
# its tour starts from.
CRM     := $(OUT)/crm
SERIAL  := HP200-0042
export CONTENT_ENGINE_DB ?= sqlite:///content-engine.db


.PHONY: setup lock sysdeps testdeps benchdeps bench bench-smoke run samples test check format clean soak editor references

# The venv is exactly the lock file: every package, direct and transitive, pinned with hashes.
$(STAMP): $(LOCK) pyproject.toml
	$(PYTHON) -m venv --clear $(VENV)
	$(PY) -m pip install -q --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	@touch $(STAMP)

# Refresh the lock from pyproject.toml's ranges (then `make test`): uv resolves for every
# platform and records hashes; the result installs with plain pip.
lock:
	@[ -x $(VENV)/bin/uv ] || { $(PYTHON) -m venv $(VENV) && $(PY) -m pip install -q uv; }
	printf 'setuptools>=68\nwheel\n' | $(VENV)/bin/uv pip compile pyproject.toml - \
	  --extra dev --extra pg --universal --python-version 3.11 --generate-hashes --upgrade \
	  --custom-compile-command "make lock" -q -o $(LOCK)

setup: sysdeps $(STAMP)

# Debian packages the project needs beyond Python are installed where we can (root with
# apt-get); elsewhere a warning says what is missing.
CAN_APT := $(shell [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && echo 1)
# $(call apt_install,PACKAGES,WHY,WITHOUT-THEM)
define apt_install
if [ "$(CAN_APT)" = 1 ]; then \
  echo "installing $(1) ($(2))"; \
  apt-get install -y -q $(1) >/dev/null 2>&1 || \
    { apt-get update -q >/dev/null && apt-get install -y -q $(1) >/dev/null; }; \
else \
  echo "warning: missing $(1): $(3)"; \
fi
endef

# WeasyPrint silently renders ~5x slower without HarfBuzz's subsetter.
sysdeps:
	@ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || \
	  { $(call apt_install,libharfbuzz-subset0,fast PDF font subsetting,PDFs render about 5x slower); }

# Fonts for the PDFs (Noto CJK for Chinese, Japanese and Korean text), Debian's Chromium for the
# browser tests (Playwright drives it; it cannot fetch a browser itself) and poppler's pdftoppm
# and pdftotext, which read the sample PDFs back as page images and as text. Where they could be
# installed, a browser test that finds no Chromium fails instead of skipping.
testdeps:
	@need=""; \
	fc-list 2>/dev/null | grep -qi dejavu || need="$$need fonts-dejavu-core"; \
	fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need="$$need fonts-noto-cjk"; \
	command -v pdftoppm >/dev/null || need="$$need poppler-utils"; \
	[ -x /usr/bin/chromium ] || need="$$need chromium"; \
	[ -z "$$need" ] || { $(call apt_install,$$need,fonts and the browser for the tests,the browser tests are skipped); }

# Benchmarks against the bare tools (benchmarks/run.py): under 10 minutes, appends RESULTS.md.
bench: setup benchdeps
	$(PY) -m benchmarks.run --append

# A tiny run that only proves the suite works (the test suite runs it too).
bench-smoke: setup benchdeps
	$(PY) -m benchmarks.run --smoke --profiles $(OUT)/bench-profiles

# The HTTP benchmark needs wrk (Debian package); without it that benchmark is left out.
benchdeps:
	@command -v wrk >/dev/null || \
	  { $(call apt_install,wrk,HTTP load generator for the benchmarks,the HTTP benchmark is left out); }

# A real server under a mixed loopback load (blocks, renders, editor writes) for SOAK_SECONDS:
# zero errors, no document mixing two library revisions, RSS growth under 10 % after warm-up.
# Not part of `make test`; SOAK_ARGS=--record appends the figures to benchmarks/RESULTS.md.
SOAK_SECONDS ?= 120
soak: setup
	$(PY) -m benchmarks.soak --duration $(SOAK_SECONDS) $(SOAK_ARGS)

run: setup
	$(CE) import components
	$(CE) lint
	@$(MAKE) --no-print-directory samples
	@echo
	@echo "Sample documents written to $(OUT)/, the sample CRM to $(CRM)/:"
	@ls -1p $(OUT) | grep -v / | sed 's/^/  /'
	@echo "  renewals/  one renewal letter per contract ending within 90 days ($(CRM)/renewals.jsonl)"
	@echo "Open $(OUT)/index.html in a browser, or the PDFs in any viewer."
	@KEY=$$($(CE) keys create --role editor --name "make run" 2>/dev/null) && echo && \
	  echo "Starting the server with the sample CRM as its data sources (Ctrl-C stops it):" && \
	  echo "  workbench  http://127.0.0.1:$(PORT)/  (sign in with the key below)" && \
	  echo "  API docs   http://127.0.0.1:$(PORT)/docs" && \
	  echo "  key        $$KEY  (role editor)" && \
	  echo "  try        curl -H 'Authorization: Bearer $$KEY' 'http://127.0.0.1:$(PORT)/v1/blocks/service.customer-summary?locale=de-AT&region=AT&lookup.serial=$(SERIAL)'" && \
	  echo "             curl -H 'Authorization: Bearer $$KEY' 'http://127.0.0.1:$(PORT)/v1/explain/renewal.offer?locale=de-AT&lookup.serial=$(SERIAL)'" && \
	  echo "             curl -H 'Authorization: Bearer $$KEY' 'http://127.0.0.1:$(PORT)/v1/blocks/product.hp200.overview?locale=de-AT&region=AT'" && \
	  echo "             curl -H 'Authorization: Bearer $$KEY' 'http://127.0.0.1:$(PORT)/v1/feedback/report?experiment=hp200-cta'" && \
	  echo && exec $(CE) serve --port $(PORT) --sources $(CRM)/sources.yaml

samples:
	@mkdir -p $(OUT)
	$(CE) samples crm --out $(CRM)
	$(CE) samples feedback
	$(CE) render brochure.hp200 --locale de-AT --region AT --role buyer --segment residential -o $(OUT)/brochure-de-AT-buyer.html
	$(CE) render brochure.hp200 --locale de-AT --region AT --role buyer --segment residential --format pdf -o $(OUT)/brochure-de-AT-buyer.pdf
	$(CE) render brochure.hp200 --locale fr --region FR --role buyer --format pdf -o $(OUT)/brochure-fr-buyer.pdf
	$(CE) render brochure.hp200 --locale en-US --region US --role buyer --format pdf -o $(OUT)/brochure-en-US-buyer.pdf
	$(CE) render brochure.hp200 --locale ar --region AE --role buyer --format pdf -o $(OUT)/brochure-ar-buyer.pdf
	$(CE) render brochure.hp200 --locale zh-Hant-TW --region TW --role buyer --format pdf -o $(OUT)/brochure-zh-Hant-buyer.pdf
	$(CE) render manual.hp200 --locale en-US --region US --role technician --channel print --format pdf -o $(OUT)/manual-en-US-technician.pdf
	$(CE) render manual.hp200 --locale de-AT --region AT --role technician --channel print --format pdf -o $(OUT)/manual-de-AT-technician.pdf
	$(CE) render manual.hp200 --locale fr --region FR --role technician --channel print --format pdf -o $(OUT)/manual-fr-technician.pdf
	$(CE) render manual.hp200 --locale ar --region AE --role technician --channel print --format pdf -o $(OUT)/manual-ar-technician.pdf
	$(CE) render manual.hp200 --locale de --region DE --role technician --channel print --format pdf -o $(OUT)/manual-de-technician.pdf
	$(CE) render service.sheet --sources $(CRM)/sources.yaml --lookup serial=$(SERIAL) --locale de-AT --region AT --role service-agent --format pdf -o $(OUT)/service-sheet-$(SERIAL).pdf
	$(CE) render service.sheet --sources $(CRM)/sources.yaml --lookup serial=$(SERIAL) --locale de-AT --region AT --role service-agent --format pdf --pdf-variant a-3b -o $(OUT)/service-sheet-$(SERIAL)-archived.pdf
	$(CE) render service.sheet --context docs/examples/service-call.json --locale fr --region FR --format pdf -o $(OUT)/service-sheet-fr.pdf
	$(CE) render service.sheet --context docs/examples/service-call.json --locale en-US --region US --format pdf -o $(OUT)/service-sheet-en-US.pdf
	$(CE) render service.sheet --context docs/examples/service-call.json --locale ar --region AE --format pdf -o $(OUT)/service-sheet-ar.pdf
	$(CE) render renewal.letter --sources $(CRM)/sources.yaml --lookup serial=$(SERIAL) --locale de-AT --region AT --format pdf -o $(OUT)/renewal-letter-$(SERIAL).pdf
	$(CE) batch renewal.letter --contexts $(CRM)/renewals.jsonl --sources $(CRM)/sources.yaml --format html --workers 2 --out $(OUT)/renewals
	$(CE) explain service.history --sources $(CRM)/sources.yaml --lookup serial=$(SERIAL) --locale de-AT --region AT -o $(OUT)/explain-service-history-$(SERIAL).txt
	$(CE) block product.hp200.overview --locale en --region US --role buyer --format json -o $(OUT)/block-en-US.json
	$(CE) explain product.hp200.overview --locale de-AT --region AT --role technician -o $(OUT)/explain-de-AT-technician.txt
	$(CE) coverage manual.hp200 > $(OUT)/coverage-manual.txt
	@$(PY) -c "import pathlib; o = pathlib.Path('$(OUT)'); \
	  items = ''.join(f'<li><a href=\"{p.name}\">{p.name}</a></li>' for p in sorted(o.iterdir()) if p.is_file() and p.name != 'index.html'); \
	  (o / 'index.html').write_text(f'<!DOCTYPE html><meta charset=utf-8><title>content-engine samples</title><h1>Samples</h1><ul>{items}</ul>')"

# Visual regression: the sample documents' first pages as small PNGs, written anew as the
# references (tests/rendering/references/) and the layouts' page images (docs/images/). Commit
# them after looking at them; the test compares renders with them within a tolerance.
references: setup testdeps
	CE_REFERENCES=1 $(PY) -m pytest tests/rendering/test_sample_documents.py -q -k "visual"

# The suite runs over TEST_WORKERS processes (pytest-xdist; `TEST_WORKERS=0` runs it in this
# one): three on CI's two cores, as many tests wait on a subprocess, a server or a browser
# (measured: 14 min with three, 16.5 with two). More would leave the timed tests (a source's
# 1 s timeout, a server's start) short of CPU. `--dist loadfile` runs a file's tests on one process: a
# module-scoped fixture is built once, and the tests of tests/engine/test_campaign.py, which
# share the brokers' queue, never run at once. (`--dist loadgroup` would be finer, but
# pytest-xdist 3.8 cannot group under pytest 9: it renames node ids that pytest no longer reads.)
# Every other test makes its own database, folder and port, so any two can run at once.
TEST_WORKERS ?= 3
test: setup testdeps check
	CONTENT_ENGINE_REQUIRE_BROWSER=$(CAN_APT) $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# Style and types: ruff, mypy --strict on the package, and the core's purity (import-linter).
check: setup
	$(VENV)/bin/ruff check content_engine tests benchmarks
	$(VENV)/bin/ruff format --check content_engine tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

# The body editor's bundle (content_engine/web/ui/static/editor.js, committed: neither CI nor
# `make run` needs npm): CodeMirror and esbuild exactly as content_engine/web/ui/editor/package-lock.json pins them.
editor:
	cd content_engine/web/ui/editor && npm ci --no-audit --no-fund && node build.mjs

format: setup
	$(VENV)/bin/ruff format content_engine tests benchmarks
	$(VENV)/bin/ruff check --fix content_engine tests benchmarks

clean:
	rm -rf $(OUT) content-engine.db content-engine.db-wal content-engine.db-shm .pytest_cache
