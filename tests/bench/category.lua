-- wrk script: category listing with a random category, sort and page.
local cats = {"EYE", "BONE", "BRAIN", "INTESTINE", "LIVER", "SKIN", "ANTIOXIDANT", "FATIGUE", "ETC"}
local sorts = {"SALES", "PRICE_H", "PRICE_L", "DISCOUNT_RATE_H", "DISCOUNT_RATE_L", "REVIEW_COUNT"}
request = function()
  local path = string.format("/api/items/categories?categoryName=%s&sort=%s&page=%d",
    cats[math.random(#cats)], sorts[math.random(#sorts)], math.random(1, 20))
  return wrk.format("GET", path)
end
