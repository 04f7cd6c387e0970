"""Every guard and effect registered, and the workflows loaded against them.

Import `STEPS` from here, not from `steps.py`: importing this module imports the modules
whose decorators fill the registry.
"""

from pathlib import Path

from app.admission import effects, guards
from app.admission.steps import STEPS
from app.context import AppContext
from app.core.config import Settings
from app.engine.loader import WorkflowRegistry

__all__ = ["STEPS", "build_context", "effects", "guards", "load_workflows"]


def load_workflows(directory: Path) -> WorkflowRegistry:
    """Every workflow file of `directory`, each checked against the registered steps."""
    return WorkflowRegistry.from_directory(directory, STEPS.catalog())


def build_context(settings: Settings) -> AppContext:
    """The application's context: database, workflows, document store and calendar."""
    return AppContext.from_settings(settings, load_workflows(settings.workflows_dir))
