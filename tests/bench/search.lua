-- wrk script: keyword search with a random keyword, sort and page.
local words = {"루테인", "오메가3", "유산균", "비타민C", "밀크씨슬", "콜라겐", "홍삼", "칼슘", "골드", "프리미엄"}
local sorts = {"SALES", "PRICE_H", "PRICE_L", "DISCOUNT_RATE_H", "DISCOUNT_RATE_L", "REVIEW_COUNT"}
local function enc(s)
  return (s:gsub("[^%w]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
request = function()
  local path = string.format("/api/items/search?keyword=%s&sort=%s&page=%d",
    enc(words[math.random(#words)]), sorts[math.random(#sorts)], math.random(1, 20))
  return wrk.format("GET", path)
end
