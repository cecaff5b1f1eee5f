"""Code sets: ICD-10-CM, our eye-care CPT/HCPCS catalog, modifiers, and remittance adjustment codes."""
