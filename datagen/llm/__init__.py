"""The only place that talks to a model server: the openai SDK client with one tenacity retry
policy (`client`), what a call can come back as (`remote`), client-side rate limits (`ratelimit`),
token counts (`tokens`) and list prices (`pricing`). No other stage imports openai, tenacity or
an HTTP library; a test keeps it so."""
