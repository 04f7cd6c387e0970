"""Bulk import and export of cases as CSV (`admission import cases`, `admission export cases`)."""
