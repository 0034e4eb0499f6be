"""The local API Gateway: the API as the transformed template describes it (:mod:`.model`), the events
API Gateway hands Lambda (:mod:`.events`), and the HTTP server (:mod:`.app`, on werkzeug)."""
