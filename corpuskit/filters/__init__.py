"""Pipeline steps that keep or drop documents: normalisation, length, language, quality, toxicity, PII."""
