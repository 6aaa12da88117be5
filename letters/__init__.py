"""Letters: print-ready invitation letters for window envelopes (reportlab). Never imports textual."""
