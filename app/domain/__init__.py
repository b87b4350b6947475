"""Pure values every layer shares (frequencies, money): no Flask, no database."""
