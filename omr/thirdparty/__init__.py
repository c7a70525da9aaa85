"""Importers for the templates of other OMR tools (OMRChecker), producing our SheetLayout."""
