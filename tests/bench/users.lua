-- shared by cart.lua and order.lua: the bench users ("<token> <cartId>" per line).
users = {}
for line in io.lines(os.getenv("BENCH_USERS_FILE")) do
  local token, cart = line:match("^(%S+) (%S+)$")
  users[#users + 1] = {token = token, cart = cart}
end
nitems = tonumber(os.getenv("BENCH_ITEMS_N") or "10000")
