"""The Flask side of the web app: sign-in, sessions, authorization of every request."""
