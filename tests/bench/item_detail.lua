-- wrk script: item detail of a random item among BENCH_ITEMS_N.
local n = tonumber(os.getenv("BENCH_ITEMS_N") or "10000")
request = function()
  return wrk.format("GET", "/api/items/" .. math.random(1, n))
end
