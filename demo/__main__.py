"""Serve the demo store on 127.0.0.1:$DEMO_PORT (default 5001): ``python -m demo``."""

import os

from demo import create_app
from demo.config import DEFAULT_PORT

if __name__ == "__main__":
    create_app().run(
        host="127.0.0.1",
        port=int(os.environ.get("DEMO_PORT", DEFAULT_PORT)),
        threaded=True,
        debug=os.environ.get("FLASK_DEBUG") == "1",
    )
