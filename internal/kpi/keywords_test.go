package kpi

import (
	"reflect"
	"testing"
)

func TestTerms(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"English", "Hi, is the blue dress still available in size M? Thanks!",
			[]string{"blue", "dress", "blue dress", "still", "dress still", "available", "still available", "size"}},
		{"Indonesian", "Kak, apakah baju batik ini masih ada stok ukuran XL? Terima kasih",
			[]string{"baju", "batik", "baju batik", "stok", "ukuran", "stok ukuran", "xl", "ukuran xl"}},
		{"Malay", "Boleh saya tahu bila pesanan saya akan sampai?",
			[]string{"tahu", "bila", "tahu bila", "pesanan", "bila pesanan", "sampai"}},
		// Pairs holding a function character (这, 还, 吗, 我) are dropped.
		{"Chinese without spaces", "请问这件衣服还有货吗？我想买两件",
			[]string{"件衣", "衣服", "有货", "想买", "买两", "两件"}},
		{"mixed, a term counts once", "Order order ORDER #12345 订单订单",
			[]string{"order", "order order", "订单", "单订"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Terms(tc.text); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Terms(%q)\n got %q\nwant %q", tc.text, got, tc.want)
			}
		})
	}
}
