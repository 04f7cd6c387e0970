"""Names of the history entries the service records besides the workflow's own actions."""

CREATE = "create"
EDIT = "edit"
UPLOAD_DOCUMENT = "upload_document"
ANSWER_CONSULTATION = "answer_consultation"
# A case moved to another version of its workflow by an operator (app/admission/migration.py).
WORKFLOW_MIGRATED = "workflow_migrated"
REVIEW_DOCUMENT = "review_document"

# Entries that record what the case holds (a document, an answer) rather than a step of its
# workflow: they leave the state as it was and say nothing of who holds the dossier.
RECORDS = frozenset({UPLOAD_DOCUMENT, ANSWER_CONSULTATION, REVIEW_DOCUMENT, WORKFLOW_MIGRATED})
