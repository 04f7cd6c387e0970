"""Working days: the Vietnamese calendar of holidays, compensatory days off and make-up days."""
