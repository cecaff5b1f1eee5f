"""Charge coding: a finalized note becomes suggested CPT/HCPCS lines and ICD-10-CM diagnoses with evidence."""
