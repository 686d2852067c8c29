"""Documents: the papers of a load, as PDFs for its parties (the waybill, the proof of delivery).
What each holds, the font, and who may download them: dispatch/documents/README.md."""
