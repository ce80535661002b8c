"""Operations: what a user can do, one async unit of work per action. No Qt here."""
