// The coordinator logic behind `cohort launch`.
