"""Loading (and fitting) a model in a background thread, so a server stays responsive meanwhile.

:class:`ModelProvider` loads one model folder with :func:`~whatif.app.bundle.load_bundle`, first
fitting it with :func:`whatif.pipeline.fit_to_artefact` when it is the missing demo model, and
publishes its status, message and the fit's last progress line for a page to show.
:func:`get_provider` keeps one provider per folder and process.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from whatif.app.bundle import ModelBundle, load_bundle, manifest_key
from whatif.errors import ArtefactError, WhatifError

__all__ = ["ModelProvider", "get_provider"]


class ModelProvider:
    """Loads one model folder in a background thread, fitting it first if asked and missing.

    One provider exists per folder and process (see :func:`get_provider`); every session that
    needs the model waits on the same one.

    Parameters
    ----------
    path
        The artefact folder.
    fit_from
        ``(survey, spec)`` files to fit the model from when the folder does not exist yet
        (the demo model); ``None`` means a missing folder is an error.
    fit_options
        Keyword arguments of :func:`whatif.pipeline.fit_to_artefact` (draws, tune, chains, seed).
    """

    def __init__(
        self,
        path: str | Path,
        fit_from: tuple[Path, Path] | None = None,
        fit_options: dict | None = None,
    ):
        self.path = Path(path)
        self.fit_from = fit_from
        self.fit_options = dict(fit_options or {})
        self.status = "idle"  # idle, fitting, loading, ready, error
        self.message = ""
        self.error = ""
        self.stage = ""  # the fit's last progress line
        self.started = 0.0
        self.finished = 0.0
        self.bundle: ModelBundle | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._key: tuple[str, int] | None = None

    @property
    def done(self) -> bool:
        return self.status in ("ready", "error")

    @property
    def elapsed(self) -> float:
        end = self.finished if self.done and self.finished else time.monotonic()
        return max(0.0, end - self.started) if self.started else 0.0

    def start(self) -> ModelProvider:
        """Start loading (once); returns at once. A model refit since is loaded afresh."""
        with self._lock:
            if self.status == "ready" and manifest_key(self.path) != self._key:
                self.status = "idle"  # refit since: load the new one
            if self.status in ("idle", "error"):
                self.status, self.error = "loading", ""
                self.started, self.finished = time.monotonic(), 0.0
                self._thread = threading.Thread(
                    target=self._run, name=f"whatif-load-{self.path.name}", daemon=True
                )
                self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> ModelProvider:
        """Block until loading ends (for the command line and tests)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self

    def _run(self) -> None:
        try:
            if (
                not (self.path / "manifest.json").exists()
                and self.fit_from is not None
                and not self.path.exists()
            ):
                survey, spec = self.fit_from
                if not Path(survey).exists():
                    raise ArtefactError(
                        f"{self.path}: no model yet, and no demo survey at {survey} to fit it from; "
                        "run 'whatif demo-data' first"
                    )
                self.status = "fitting"
                self.message = (
                    f"Fitting the model {self.path.name} from {survey} "
                    "(first run only; it takes a few minutes)"
                )
                self._fit(survey, spec)
            self.status = "loading"
            self.message = f"Loading the model {self.path.name}"
            self._key = manifest_key(self.path)
            self.bundle = load_bundle(self.path)
            self.status = "ready"
            self.message = ""
        except WhatifError as err:
            self.error = "\n".join(err.problems) or str(err)
            self.status = "error"
        except KeyboardInterrupt as err:  # the sampler stopped early: nothing was saved
            self.error = f"{self.path}: the fit was interrupted ({err}); nothing was written"
            self.status = "error"
        except Exception as err:  # never let a server thread die silently
            self.error = f"{self.path}: could not load the model ({type(err).__name__}: {err})"
            self.status = "error"
        finally:
            self.finished = time.monotonic()

    def _fit(self, survey: Path, spec: Path) -> None:
        """Run the fit pipeline, showing its progress lines in :attr:`stage` and on stderr."""
        from whatif.pipeline import fit_to_artefact

        def relay(message: str) -> None:
            self.stage = message
            print(f"whatif: {message}", file=sys.stderr, flush=True)

        try:
            fit_to_artefact(survey, spec, self.path, **self.fit_options, log=relay)
        finally:
            self.stage = ""


_PROVIDERS: dict[str, ModelProvider] = {}
_PROVIDERS_LOCK = threading.Lock()


def get_provider(
    path: str | Path, fit_from: tuple[Path, Path] | None = None, fit_options: dict | None = None
) -> ModelProvider:
    """The process-wide :class:`ModelProvider` of a model folder (created on first use)."""
    key = str(Path(path).resolve())
    with _PROVIDERS_LOCK:
        provider = _PROVIDERS.get(key)
        if provider is None:
            provider = _PROVIDERS[key] = ModelProvider(path, fit_from, fit_options)
        elif fit_from is not None and provider.fit_from is None:
            provider.fit_from, provider.fit_options = fit_from, dict(fit_options or {})
        return provider
