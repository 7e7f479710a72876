"""Conversation scripts for the demo packs: who writes, and what (Spanish and Portuguese)."""

from __future__ import annotations

S, B = "seller", "buyer"

# Pack 1: a long thread about a sofa delivery (paging needs 25+ messages).
SOFA = [
    (
        B,
        "Hola, buenas tardes. Acabo de comprar el sillón de tres cuerpos color gris. ¿Cuándo lo despachan?",
    ),
    (S, "¡Hola Martina! Gracias por tu compra. Lo despachamos mañana por la mañana."),
    (B, "Perfecto. ¿Me confirman que viene con las patas de madera y no las metálicas?"),
    (S, "Sí, viene con patas de madera de paraíso, tal como figura en la publicación."),
    (B, "Genial. Otra consulta: vivo en un tercer piso sin ascensor, ¿el envío lo sube?"),
    (
        S,
        "El transporte entrega en la puerta de planta baja. Si necesitás que lo suban, avisanos y lo coordinamos.",
    ),
    (B, "Sí, por favor, necesitaría que lo suban. ¿Tiene costo adicional?"),
    (S, "No tiene costo adicional. Les dejamos la indicación a los transportistas."),
    (B, "¡Muchas gracias! ¿El sillón viene armado o hay que armarlo?"),
    (S, "Viene armado; solamente hay que enroscar las cuatro patas. Incluye las instrucciones."),
    (B, "Buenísimo. ¿En qué franja horaria suelen entregar?"),
    (S, "Entre las 9 y las 18 hs. El día anterior te llega un aviso con la franja estimada."),
    (B, "Ok. El jueves no voy a estar en casa, ¿se puede reprogramar si cae ese día?"),
    (S, "Sí, con el aviso vas a poder elegir otro día desde la sección Mis compras."),
    (B, "Perfecto, quedo atenta al aviso."),
    (S, "¡Listo! El paquete ya salió del depósito. Te va a llegar el código de seguimiento."),
    (B, "Ya me llegó el seguimiento, dice que está en camino."),
    (S, "Excelente. Cualquier cosa nos escribís por acá."),
    (B, "Hola, el transportista vino hoy pero no pudo subirlo porque no entraba por la escalera."),
    (S, "Uy, lamentamos mucho la situación. ¿Nos podrías indicar el ancho de la escalera?"),
    (B, "Mide aproximadamente 80 cm en la parte más angosta."),
    (
        S,
        "Entendemos. El sillón mide 92 cm de profundidad; se puede desarmar el respaldo para que pase.",
    ),
    (B, "¿Y eso lo hacen ustedes o tengo que buscar a alguien?"),
    (S, "Lo hacemos nosotros: coordinamos una nueva visita con un técnico sin cargo."),
    (B, "Bárbaro. ¿Qué días tienen disponibles?"),
    (S, "Tenemos lunes 9 o martes 10 por la tarde. ¿Cuál te queda mejor?"),
    (B, "El martes 10 por la tarde me viene perfecto."),
    (B, "Ah, y si pueden traer también los protectores de fieltro para las patas, mejor."),
    (B, "¡Gracias por la atención, de verdad!"),
]

# Pack 2: the seller answered; the buyer has not read the answers yet.
CABLE = [
    (B, "Hola, ¿el cable HDMI de 3 metros soporta 4K a 60 Hz?"),
    (S, "¡Hola! Sí, es HDMI 2.0 y soporta 4K a 60 Hz con HDR."),
    (S, "Te lo despachamos hoy mismo por Mercado Envíos."),
    (S, "Te compartimos la factura A en el detalle de la compra."),
]

# Pack 3: a Brazilian buyer writing in Portuguese.
TENIS = [
    (B, "Olá! Comprei o tênis de corrida tamanho 42. Vocês enviam com nota fiscal?"),
    (S, "¡Hola! Sí, enviamos la factura junto con el paquete. ¡Gracias por tu compra!"),
    (B, "Obrigado! Vocês têm a mesma cor no tamanho 43? Acho que o 42 vai ficar apertado."),
    (S, "Tenemos el 43 en el mismo color. Si querés, cuando recibas el 42 lo cambiamos sin costo."),
    (B, "Perfeito, vou aguardar a entrega e aviso vocês. Muito obrigado pela atenção!"),
]

# Pack 4: everything read on both sides.
LAMPARA = [
    (B, "Buen día, ¿la lámpara de pie incluye la lamparita?"),
    (S, "¡Buen día! Sí, incluye una lamparita LED de 9 W luz cálida."),
    (B, "Gracias, ya la recibí y funciona perfecto."),
]

# Order without a pack: addressed by its order id under /packs/.
MATE = [
    (S, "¡Hola! Tu mate de calabaza con bombilla de alpaca ya está listo para retirar."),
    (B, "Buenísimo, paso a buscarlo el sábado a la mañana. ¿Hasta qué hora atienden?"),
]

# Cancelled order: the conversation stays visible but nobody can write any more.
CANCELADO = [
    (B, "Hola, me equivoqué de talle al comprar la campera. ¿Puedo cancelar la compra?"),
    (S, "¡Hola! Sí, la cancelamos ahora mismo y el dinero vuelve a tu medio de pago."),
    (B, "Perfecto, muchas gracias por la rapidez."),
]

# The seller's second answer carries a phone number: moderated and hidden from the buyer.
MODERADO = [
    (B, "Olá! A mochila tem garantia? Se der defeito, com quem eu falo?"),
    (S, "¡Hola! Sí, tiene 6 meses de garantía de fábrica."),
    (
        S,
        "Para cualquier problema llamame directo al celular 11 4567-8910 así lo resolvemos rápido.",
    ),
    (S, "Ante cualquier falla, escribinos por acá y gestionamos el cambio."),
]
