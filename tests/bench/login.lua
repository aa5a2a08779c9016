-- wrk script: the same successful login on every request.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"bench@example.com","password":"Bench1234!"}'
