// Dump dlib's face recognition ResNet (dlib_face_recognition_resnet_model_v1.dat)
// as dlib's XML description of the network, plus a reference embedding.
//
//   net_to_xml MODEL.dat OUT.xml OUT_REF.txt
//
// The network definition below is the one from dlib's
// examples/dnn_face_recognition_ex.cpp (the "anet_type" that the .dat file was
// trained and serialised with; deserialisation fails if it does not match).
// dlib::net_to_xml writes every layer with its parameters (convolution
// filters + biases, the affine layers that replaced batch norm at test time,
// the 256x128 fc_no_bias matrix) in a text form that models/dlib_to_onnx.py
// turns into ONNX.
//
// OUT_REF.txt receives the 128 floats (one line, "%.9g") that dlib itself
// computes for a deterministic 150x150 test chip:
//   img(r, c) = ((r*7 + c*3) % 256, (r*5 + c*11) % 256, (r*13 + c) % 256)   (R, G, B)
// dlib_to_onnx.py rebuilds the same chip and compares the ONNX output with it.
//
// Build (Debian 12: apt-get install libdlib-dev g++ pkg-config):
//   g++ -O2 -std=c++14 net_to_xml.cpp -o net_to_xml $(pkg-config --cflags --libs dlib-1)

#include <dlib/dnn.h>
#include <cstdio>
#include <iostream>

using namespace dlib;

// ---- network definition, verbatim from dlib's dnn_face_recognition_ex.cpp ----
template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual = add_prev1<block<N, BN, 1, tag1<SUBNET>>>;

template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual_down = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<block<N, BN, 2, tag1<SUBNET>>>>>>;

template <int N, template <typename> class BN, int stride, typename SUBNET>
using block = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, stride, stride, SUBNET>>>>>;

template <int N, typename SUBNET> using ares = relu<residual<block, N, affine, SUBNET>>;
template <int N, typename SUBNET> using ares_down = relu<residual_down<block, N, affine, SUBNET>>;

template <typename SUBNET> using alevel0 = ares_down<256, SUBNET>;
template <typename SUBNET> using alevel1 = ares<256, ares<256, ares_down<256, SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128, ares<128, ares_down<128, SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64, ares<64, ares<64, ares_down<64, SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32, ares<32, ares<32, SUBNET>>>;

using anet_type = loss_metric<fc_no_bias<128, avg_pool_everything<
                            alevel0<
                            alevel1<
                            alevel2<
                            alevel3<
                            alevel4<
                            max_pool<3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2,
                            input_rgb_image_sized<150>
                            >>>>>>>>>>>>;
// ---- end of the network definition ----

int main(int argc, char** argv)
{
    if (argc != 4) {
        std::cerr << "usage: " << argv[0] << " MODEL.dat OUT.xml OUT_REF.txt\n";
        return 2;
    }
    try {
        anet_type net;
        deserialize(argv[1]) >> net;
        net_to_xml(net, argv[2]);

        matrix<rgb_pixel> img(150, 150);
        for (long r = 0; r < 150; ++r)
            for (long c = 0; c < 150; ++c) {
                img(r, c).red = (r * 7 + c * 3) % 256;
                img(r, c).green = (r * 5 + c * 11) % 256;
                img(r, c).blue = (r * 13 + c) % 256;
            }
        matrix<float, 0, 1> d = net(img);

        FILE* f = std::fopen(argv[3], "w");
        if (!f) {
            std::cerr << "cannot write " << argv[3] << "\n";
            return 1;
        }
        for (long i = 0; i < d.size(); ++i)
            std::fprintf(f, "%.9g%c", d(i), i + 1 < d.size() ? ' ' : '\n');
        std::fclose(f);
    } catch (std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
